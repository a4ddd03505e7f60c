#!/usr/bin/python3
"""A tiny authoritative DNS responder for the interop suite: answers A and
AAAA queries for NAME with the given addresses, on ADDR:53 inside the suite's
own namespace; NXDOMAIN for anything else. Exits after SECONDS."""
import socket, struct, sys, time

addr, name, a, aaaa, seconds = sys.argv[1], sys.argv[2].lower().rstrip('.'), sys.argv[3], sys.argv[4], float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
s.settimeout(0.5)
end = time.time() + seconds
while time.time() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    qid, flags, qd = struct.unpack('!HHH', q[:6])
    at, labels = 12, []
    while q[at]:
        labels.append(q[at + 1:at + 1 + q[at]].decode().lower())
        at += 1 + q[at]
    qtype = struct.unpack('!H', q[at + 1:at + 3])[0]
    question = q[12:at + 5]
    qname = '.'.join(labels)
    answers = b''
    rcode, count = 0, 0
    if qname != name:
        rcode = 3
    elif qtype == 1:
        answers, count = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60, 4) + socket.inet_aton(a), 1
    elif qtype == 28:
        answers, count = b'\xc0\x0c' + struct.pack('!HHIH', 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, aaaa), 1
    header = struct.pack('!HHHHHH', qid, 0x8180 | rcode, 1, count, 0, 0)
    s.sendto(header + question + answers, peer)
