void yongai_fault_placeholder(void);
