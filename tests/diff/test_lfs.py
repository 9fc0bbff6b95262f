"""Git LFS pointer parsing (spec v1), no git-lfs needed."""

from __future__ import annotations

from mlci.repo.lfs import LfsPointer, might_be_pointer, parse_pointer

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"


def test_a_pointer() -> None:
    data = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n"
    assert parse_pointer(data.encode()) == LfsPointer(oid=OID, size=12345)
    assert might_be_pointer(len(data))


def test_extra_keys_are_allowed() -> None:
    data = (f"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:{OID}\n"
            f"oid sha256:{OID}\nsize 7\n")
    assert parse_pointer(data.encode()) == LfsPointer(oid=OID, size=7)


def test_not_pointers() -> None:
    assert parse_pointer(b"just a file\n") is None
    assert parse_pointer(b"version https://git-lfs.github.com/spec/v1\nsize 3\n") is None
    assert parse_pointer(b"version https://git-lfs.github.com/spec/v1\noid sha256:xyz\n"
                         b"size 3\n") is None
    big = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 1\n"
    assert parse_pointer((big + "x" * 2000).encode()) is None
    assert not might_be_pointer(5_000) and not might_be_pointer(10)
