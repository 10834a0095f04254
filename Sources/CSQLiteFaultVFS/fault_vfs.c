#include "CSQLiteFaultVFS.h"
void yongai_fault_placeholder(void){}
