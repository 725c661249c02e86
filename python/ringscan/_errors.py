"""The exception a failed ringscan run raises."""


class RingscanError(Exception):
    """ringscan exited with a status other than 0: 2 for bad usage or input
    (refused before the first packet), 1 for a runtime failure, 130/143 if
    something else stopped it with SIGINT/SIGTERM.

    returncode: ringscan's exit status (negative: killed by that signal).
    message: ringscan's own one-line message (its last line on stderr,
    such as "ringscan: -p/--ports: invalid port '0' in '0': port 0 is not
    scannable"). stderr: the last lines it wrote there.
    """

    def __init__(self, returncode, message, stderr=""):
        super().__init__(message)
        self.returncode = returncode
        self.message = message
        self.stderr = stderr

    def __str__(self):
        return "%s (exit status %d)" % (self.message, self.returncode)
