"""A stand-in for Docker's embedded DNS (127.0.0.11) in every lab namespace.

``python -m tests.fleet.embedded_dns HOSTS NETNS...`` answers A queries for
the names in the hosts file on 127.0.0.11:53 (UDP) in each network namespace
given (namespace files, e.g. /run/netns/proxy): the stack's NGINX looks its
upstreams up there while running, as on a Docker network. Other names get
NXDOMAIN (the box has no internet), other record types an empty answer.
"""

import os
from pathlib import Path
import selectors
import socket
import struct
import sys

ADDRESS = ("127.0.0.11", 53)
NXDOMAIN = 3


def read_hosts(path: Path) -> dict[str, bytes]:
    """Return name -> packed IPv4 address from a hosts file."""
    table = {}
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            for name in fields[1:]:
                table[name.lower().rstrip(".")] = socket.inet_aton(fields[0])
    return table


def _question(packet: bytes) -> tuple[str, int, int]:
    """Return (name, qtype, offset after the question) of a query."""
    labels, offset = [], 12
    while (length := packet[offset]) != 0:
        labels.append(packet[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length
    qtype = struct.unpack_from("!H", packet, offset + 1)[0]
    return ".".join(labels).lower(), qtype, offset + 5


def answer(packet: bytes, table: dict[str, bytes]) -> bytes:
    """Return the response to one query."""
    ident, flags = struct.unpack_from("!HH", packet)
    name, qtype, end = _question(packet)
    question = packet[12:end]
    address = table.get(name)
    rcode = 0 if address is not None else NXDOMAIN
    records = b""
    if address is not None and qtype == 1:
        # Name pointer to the question, type A, class IN, TTL 10 s, 4 bytes.
        records = struct.pack("!HHHIH", 0xC00C, 1, 1, 10, 4) + address
    response_flags = 0x8000 | (flags & 0x0100) | 0x0080 | 0x0400 | rcode
    header = struct.pack("!HHHHHH", ident, response_flags, 1, 1 if records else 0, 0, 0)
    return header + question + records


def main(argv: list[str]) -> None:
    """Bind 127.0.0.11:53 in each namespace given, then answer forever."""
    table = read_hosts(Path(argv[0]))
    selector = selectors.DefaultSelector()
    for namespace in argv[1:]:
        fd = os.open(namespace, os.O_RDONLY)
        os.setns(fd, os.CLONE_NEWNET)
        os.close(fd)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(ADDRESS)
        selector.register(sock, selectors.EVENT_READ)
    print(  # noqa: T201 - its log
        f"answering {len(table)} names in {len(argv) - 1} namespaces", flush=True
    )
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            packet, peer = sock.recvfrom(512)
            try:
                sock.sendto(answer(packet, table), peer)
            except IndexError, struct.error, UnicodeDecodeError:
                continue  # not a query this stand-in reads


if __name__ == "__main__":
    main(sys.argv[1:])
