#!/usr/bin/env python3
"""Writes fuzz-session's seeds (corpus/fuzz-session/) and its regressions for known crashes
(regressions/fuzz-session/): byte strings spelled in the grammar of SessionHarness.step.
Keep the numbers here in step with SessionHarness.swift; run again after changing either."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# Devices (SessionHarness.devices): adm-a, adm-b, phone-r7, kiosk-1, staff-1, phone-r9.
ADM_A, ADM_B, RIDER, KIOSK, STAFF, RIDER9 = range(6)
# Steps (SessionHarness.step): the slot, then the step's number, then its choices.
HELLO, WRITE, PUSH, PULL, SUBSCRIBE, PING, RAW, REPLAY, CLOCK, CLOSE = 0, 2, 8, 11, 13, 14, 15, 16, 17, 18
NO = 0  # chance(n) is true only for n - 1
# Collections and timestamp choices (SessionHarness.timestampChoice).
STATIONS, CHECKINS, APPEALS = 0, 1, 2
NORMAL, ZERO = (5,), (0,)
TOP_WALL = lambda logical: (1, logical)  # logical: 0, 1 (65534) or 2 (65535)
LOGICAL = lambda which: (2, which)  # 0: 65534, 1: 65535


def hello(slot, device, cursor=None):
    return [slot, HELLO, device, NO] + ([NO] if cursor is None else [1, NO, *cursor]) + [NO, NO]


# A write's choices: collection, key, dot (2: the next counter), stamp, delete?, [whole? when the
# device has seen the record], the values, [which fields, when not whole], far context?, [the
# state written over after it? when seen].
def new(slot, collection, key=0, stamp=NORMAL):
    values = {STATIONS: [0] * 7, CHECKINS: [0] * 5, APPEALS: [0] * 5}[collection]
    return [slot, WRITE, collection, key, 2, *stamp, NO, *values, NO]


def edit(slot, collection, field, value, key=0, stamp=NORMAL):
    """An edit of one field of a record the device has seen (field: index in the values list)."""
    count = {STATIONS: 7, CHECKINS: 5, APPEALS: 6}[collection]
    values = [0] * count
    values[field] = value
    if collection == APPEALS:
        values = values[:1] + values[2:]  # category is no choice
    return [slot, WRITE, collection, key, 2, *stamp, NO, NO, *values, field, NO, NO, NO]


def delete(slot, collection, key=0):
    return [slot, WRITE, collection, key, 2, *NORMAL, 5, NO, NO]


push = lambda slot: [slot, PUSH, NO]
pull = lambda slot, limit=0, cursor=(0, 0): [slot, PULL, limit, *cursor]

STATUS = 4  # stations' status: open, closed, full, gone
seeds = {
    "conflict-and-delete": hello(0, ADM_A) + new(0, STATIONS) + push(0) + hello(1, KIOSK) + pull(1)
    + edit(1, STATIONS, STATUS, 2) + hello(2, ADM_B) + pull(2) + edit(2, STATIONS, STATUS, 1) + push(1) + push(2)
    + pull(0) + delete(0, STATIONS) + push(0) + pull(1, 1) + pull(2, 3, (0, 2)),
    "rider-checkin-appeal": hello(0, RIDER) + new(0, CHECKINS, 0, ZERO) + push(0) + new(0, APPEALS, 0, LOGICAL(0))
    + push(0) + hello(1, ADM_A) + pull(1) + edit(1, APPEALS, 3, 1) + push(1) + pull(0) + new(0, CHECKINS, 1)
    + push(0) + hello(2, STAFF) + pull(2) + edit(2, APPEALS, 4, 0) + push(2),
    "reused-dot-and-replay": hello(0, ADM_A) + new(0, STATIONS, 2) + push(0)
    + [0, WRITE, STATIONS, 2, 0, 5, NO, NO, 0, 0, 0, 0, 1, 0, 0, STATUS, NO, NO, NO] + push(0)
    + hello(1, KIOSK, (5, 2)) + [1, REPLAY, 2, PING] + hello(2, STAFF) + [2, REPLAY]
    + [1, RAW, 1, 7, 0, 3, 0, 9, 65] + pull(1, 3, (1, 6)),
    "junk-lines": hello(0, RIDER9) + [0, RAW, 0, 40] + list(b'{"type":"pull","id":1,"cursor":-1}')
    + [1, PING, 0, PING] + [1, HELLO, RIDER, NO, 1, 3, 0, 0, NO, NO] + [0, CLOSE] + [0, RAW, 0, 8]
    + list(b'\xff\xfe{}[]"\x00'),
    # One record twice in one push (an edit after the insert): the daemon counts both.
    "repeated-key-in-batch": hello(0, ADM_A) + new(0, STATIONS, 1) + edit(0, STATIONS, STATUS, 1, 1) + push(0),
    # One record twice in one run of a push (two single writes with the same key).
    "repeated-key-in-run": hello(0, ADM_A) + new(0, STATIONS, 1)
    + [0, WRITE, STATIONS, 1, 2, *NORMAL, NO, 3, 0, 0, 0, 0, 1, 0, 0, NO, NO] + push(0),
    # An edit, then the state it wrote over, in one push.
    "stale-state-after-edit": hello(0, ADM_A) + new(0, STATIONS, 1) + push(0) + edit(0, STATIONS, STATUS, 2, 1)[:-1]
    + [7] + push(0),
    "subscribe-edges": hello(0, ADM_B) + [0, SUBSCRIBE, 0, 5, 0, SUBSCRIBE, 0, 2, 1, SUBSCRIBE, 0, 0]
    + new(0, STATIONS, 1) + push(0) + [0, SUBSCRIBE, 0, 3] + pull(0, 1, (0, 5)),
}
regressions = {
    # HybridLogicalClock.receive: HybridTimestamp.successor overflows at wall 2^47-1, logical 65535.
    "hlc-top-wall-logical-65535": hello(0, RIDER) + new(0, CHECKINS, 0, TOP_WALL(2)) + new(0, CHECKINS, 1)
    + push(0) + new(0, APPEALS) + push(0),
    # The same from logical 65534: the daemon's clock ticks to 65535 on the first merge, traps on the next.
    "hlc-top-after-logical-65534": hello(0, ADM_A) + new(0, STATIONS, 0, TOP_WALL(1)) + push(0)
    + new(0, STATIONS, 1) + push(0) + new(0, STATIONS, 2) + push(0),
}
for folder, inputs in (("corpus/fuzz-session", seeds), ("regressions/fuzz-session", regressions)):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    for name, data in inputs.items():
        with open(os.path.join(HERE, folder, name), "wb") as file:
            file.write(bytes(data))
