"""Writing user files so that a failure never loses the file that was there before.

Every writer of a user file (`save`, `export delimited`, `log using`) goes through here. The
new content goes to a temporary file in the target's own folder (a rename is atomic only
within one file system); it is flushed and fsync'ed, given the permission bits of the file it
replaces, and only then renamed over the target with os.replace, after which the folder is
fsync'ed so the rename itself survives a crash. Until that rename the old file is untouched,
so a full disk, an I/O error, Ctrl-C or a process killed mid-write leaves it byte for byte as
it was; on an error the temporary file is removed (a SIGKILL can leave one behind, never a
damaged target).

OS errors become Stata's file errors:
  r(603) `file X could not be opened`: the file cannot be created (missing or unwritable
         folder, a directory in the way);
  r(608) `file X cannot be modified or erased; likely cause is read-only directory or file`:
         an existing file that may not be replaced (read-only file, folder or file system,
         immutable file);
  r(693) `file X could not be written; file I/O error on write`: the write itself failed
         (disk full, quota, file size limit, device error).
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from hlmshell.errors import StataError
from hlmshell.limits import no_memory

# errno values that mean "the data could not be written" rather than "may not write here"
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EIO, getattr(errno, "EDQUOT", -1)}
_DENIED_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY, errno.EBUSY}
TEMP_SUFFIX = ".hlmtmp"


def could_not_open(shown: str) -> StataError:
    return StataError(f"file {shown} could not be opened", 603)


def read_only(shown: str) -> StataError:
    return StataError(f"file {shown} cannot be modified or erased; likely cause is "
                      "read-only directory or file", 608)


def write_failed(shown: str) -> StataError:
    return StataError(f"file {shown} could not be written; file I/O error on write", 693)


def io_error(exc: OSError, shown: str, existed: bool) -> StataError:
    """The Stata error for an OSError met while creating or writing `shown`."""
    if exc.errno in _WRITE_ERRNOS:
        return write_failed(shown)
    if exc.errno in _DENIED_ERRNOS and existed:
        return read_only(shown)
    return could_not_open(shown)


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write really replaces: a symlink is followed, so the link stays a link
    and its target gets the new content (as writing through it would)."""
    p = Path(path)
    try:
        if p.is_symlink():
            return Path(os.path.realpath(p))
    except OSError:
        pass
    return p


def check_target(target: Path, shown: str) -> bool:
    """Refuse before writing anything; returns whether the target exists.

    A directory in the way cannot be opened as a file (r(603)); an existing file this process
    may not write (read-only bits for a non-root user, an immutable file, a read-only file
    system) may not be replaced either (r(608)), even though a rename in a writable folder
    would technically succeed: Stata respects the file's protection, so do we.
    """
    try:
        os.stat(target)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise could_not_open(shown) from exc
    if os.path.isdir(target):
        raise could_not_open(shown)
    if not os.access(target, os.W_OK):
        raise read_only(shown)
    return True


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask can only be
    read by setting it, which would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _give_mode(tmp: str, target: Path, existed: bool) -> None:
    """The new file gets the replaced file's permission bits (and owner, where allowed);
    a new file gets the mode an ordinary open() would have given it (0666 less umask),
    not mkstemp's private 0600."""
    if existed:
        st = os.stat(target)
        os.chmod(tmp, st.st_mode & 0o7777)
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):
                os.chown(tmp, st.st_uid, st.st_gid)
    else:
        os.chmod(tmp, 0o666 & ~_umask())


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; file systems that cannot fsync a folder are let be."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_temp(target: Path, shown: str, existed: bool) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise io_error(exc, shown, existed) from None


def fsync_file(fd: int) -> None:
    """fsync, except where the file system has none (EINVAL/ENOTSUP: some FUSE and network
    mounts); an I/O error there is real and propagates."""
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def _discard(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, shown: str | None = None, text: bool = False,
                 encoding: str = "utf-8"):
    """Yield a file object whose content replaces `path` only when the block ends normally.

    `shown` is the name used in error messages (what the user typed). With text=True the
    object is a text file (given encoding, newlines written as given).
    """
    shown = str(path) if shown is None else shown
    target = resolve_target(path)
    existed = check_target(target, shown)
    fd, tmp = _make_temp(target, shown, existed)
    done = False
    try:
        if text:
            fh = os.fdopen(fd, "w", encoding=encoding, newline="")
        else:
            fh = os.fdopen(fd, "wb")
        with fh:
            yield fh
            fh.flush()
            fsync_file(fh.fileno())
        _give_mode(tmp, target, existed)
        os.replace(tmp, target)
        done = True
    except OSError as exc:
        raise io_error(exc, shown, existed) from None
    except MemoryError:
        raise no_memory() from None
    finally:
        if not done:
            _discard(tmp)
    fsync_dir(target.parent)


def create_replacing(path: str | os.PathLike, *, shown: str | None = None,
                     encoding: str = "utf-8"):
    """A new, empty text file at `path`, open for writing, that has already replaced any old
    file there.

    For logs, which are written while open: the old log is kept until the new one exists
    (created, given its mode, renamed over), so a log that cannot be created (read-only
    folder, full disk) leaves the old one in place.
    """
    shown = str(path) if shown is None else shown
    target = resolve_target(path)
    existed = check_target(target, shown)
    fd, tmp = _make_temp(target, shown, existed)
    try:
        fh = os.fdopen(fd, "w", encoding=encoding)
    except BaseException:
        os.close(fd)
        _discard(tmp)
        raise
    try:
        _give_mode(tmp, target, existed)
        os.replace(tmp, target)
    except OSError as exc:
        fh.close()
        _discard(tmp)
        raise io_error(exc, shown, existed) from None
    fsync_dir(target.parent)
    return fh


def open_append(path: str | os.PathLike, *, shown: str | None = None,
                encoding: str = "utf-8"):
    """An existing (or new) text file opened for appending, with Stata's errors."""
    shown = str(path) if shown is None else shown
    target = resolve_target(path)
    existed = check_target(target, shown)
    try:
        return open(target, "a", encoding=encoding)
    except OSError as exc:
        raise io_error(exc, shown, existed) from None


__all__ = ["atomic_write", "create_replacing", "open_append", "io_error", "could_not_open",
           "read_only", "write_failed", "fsync_dir", "fsync_file", "TEMP_SUFFIX"]
