"""One ringscan child: targets in on stdin, JSON lines out, as a generator.

Three pipes, three readers/writers that never wait on one another: a
feeder thread writes the targets to the child's stdin, a second thread
drains its stderr (keeping the last lines, for the error message), and
the generator itself reads stdout. A full stdout pipe therefore never
stops the feeder, and a feeder blocked on a full stdin pipe never stops
the results (the classic deadlock of a pool fed and drained through two
bounded queues by one thread).

Closing the generator early (close(), break out of a for loop, garbage
collection) closes our end of stdout, sends SIGTERM (ringscan drains what
is in flight and exits; its workers die with it), waits for it, and joins
both threads: no zombie, no thread left behind.
"""
import collections
import json
import os
import shutil
import subprocess
import threading

from ._errors import RingscanError

_CHUNK = 1 << 16  # bytes per write to the child's stdin
_STDERR_LINES = 50  # stderr lines kept for the exception
_STOP_WAIT = 10.0  # seconds a SIGTERMed child gets before SIGKILL


def find_binary(binary=None):
    """The ringscan to run: binary if given, else $RINGSCAN, else the one
    on PATH. FileNotFoundError if there is none."""
    path = binary or os.environ.get("RINGSCAN") or shutil.which("ringscan")
    if not path:
        raise FileNotFoundError("ringscan not found on PATH (install it, or pass binary=PATH)")
    return os.fspath(path)


def _feed(proc, lines, stop, failure):
    """Write lines (str, without '\\n') to proc's stdin in chunks, then
    close it. A child that exits early (bad input) breaks the pipe: that
    ends the feeding quietly, the child's exit status tells what happened.
    If lines itself fails (a target with a line break, an exception from
    the caller's iterator), the child is killed before it sees the end of
    its input, so that it never scans half a list; the error is kept in
    failure for the generator to raise."""
    pipe = proc.stdin
    buf = []
    size = 0
    try:
        for line in lines:
            if stop.is_set():
                return
            if "\n" in line or "\r" in line or "\0" in line:
                raise ValueError("target %r holds a line break or NUL byte" % (line,))
            buf.append(line)
            size += len(line) + 1
            if size >= _CHUNK:
                pipe.write(("\n".join(buf) + "\n").encode())
                buf, size = [], 0
        if buf:
            pipe.write(("\n".join(buf) + "\n").encode())
    except (BrokenPipeError, ConnectionResetError):
        pass
    except BaseException as e:
        failure.append(e)
        proc.kill()
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _drain(pipe, keep):
    """Read pipe (the child's stderr) to its end, keeping the last lines."""
    try:
        for raw in pipe:
            keep.append(raw.decode("utf-8", "replace").rstrip("\n"))
    except (OSError, ValueError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _stop(proc):
    """End a child that is still running: SIGTERM (it drains and exits),
    SIGKILL if it has not after _STOP_WAIT seconds; reap it either way."""
    if proc.poll() is None:
        try:
            proc.terminate()
            proc.wait(_STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def stream(argv, lines, parse=json.loads):
    """Run argv (ringscan reading targets from stdin), feeding it lines (an
    iterable of str) from a thread; yield each JSON line of its stdout,
    through parse (a dict by default), while it runs. RingscanError if it exits with a status other than
    0; the feeder's own error (a target with a line break, an exception
    from lines) is raised instead when there is one."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, close_fds=True)
    stop = threading.Event()
    failure = []
    errlines = collections.deque(maxlen=_STDERR_LINES)
    feeder = threading.Thread(target=_feed, args=(proc, lines, stop, failure),
                              name="ringscan-feeder", daemon=True)
    drainer = threading.Thread(target=_drain, args=(proc.stderr, errlines),
                               name="ringscan-stderr", daemon=True)
    feeder.start()
    drainer.start()
    done = False
    try:
        for raw in proc.stdout:
            yield parse(raw)
        rc = proc.wait()
        done = True
    finally:
        stop.set()
        proc.stdout.close()
        if not done:
            _stop(proc)
        feeder.join(_STOP_WAIT)
        drainer.join(_STOP_WAIT)
    if failure:
        raise failure[0]
    if rc != 0:
        lines_ = [l for l in errlines if l.strip()]
        message = lines_[-1] if lines_ else "ringscan: exited with status %d" % rc
        raise RingscanError(rc, message, "\n".join(errlines))
