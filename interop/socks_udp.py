#!/usr/bin/python3
"""SOCKS5 UDP ASSOCIATE client (RFC 1928 §7) for the interop suite: sends
TEXT to DST:PORT through the proxy at 127.0.0.1:SOCKS and prints the reply."""
import socket, struct, sys

socks_port, dst, port, text = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = socket.create_connection(('127.0.0.1', socks_port), timeout=5)
t.sendall(b'\x05\x01\x00')
assert t.recv(2) == b'\x05\x00', 'method'
t.sendall(b'\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00')
r = t.recv(10)
assert r[:2] == b'\x05\x00' and r[3] == 1, f'associate refused: {r!r}'
relay = (socket.inet_ntoa(r[4:8]), struct.unpack('!H', r[8:10])[0])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(b'\x00\x00\x00\x01' + socket.inet_aton(dst) + struct.pack('!H', port) + text.encode(), relay)
d, _ = u.recvfrom(4096)
assert d[3] == 1 and socket.inet_ntoa(d[4:8]) == dst, f'reply header {d[:10]!r}'
print(d[10:].decode())
