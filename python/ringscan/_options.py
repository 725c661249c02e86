"""Keyword options -> ringscan command-line flags.

One table: each Python option names its flag and how its value is
written. Options that the package itself owns (the input, the output
and its format, the progress line) are not in it, so passing them, or
anything else it does not know, is a TypeError, as for any Python
function given an unexpected keyword.
"""

# name -> (flag, kind); kind: "flag" (True adds it, False/None omit it),
# "int" (a non-negative integer), "str", "list" (a string, or an iterable
# of strings joined by commas), "shard" ("I/N" or a pair (I, N)).
OPTIONS = {
    "workers": ("-w", "int"),
    "concurrency": ("-c", "int"),
    "rate": ("-r", "int"),
    "fixed_rate": ("--fixed-rate", "flag"),
    "timeout": ("-t", "int"),
    "retries": ("--retries", "int"),
    "seed": ("--seed", "int"),
    "shard": ("--shard", "shard"),
    "exclude": ("--exclude", "list"),
    "exclude_file": ("--exclude-file", "str"),
    "allow_reserved": ("--allow-reserved", "flag"),
    "banner": ("--banner", "flag"),
    "service": ("--service", "flag"),
    "service_intensity": ("--service-intensity", "int"),
    "service_db": ("--service-db", "str"),
    "read_timeout": ("--read-timeout", "int"),
    "engine": ("--engine", "str"),
    "stats": ("--stats", "str"),
    "all": ("--all", "flag"),
}


def _value(name, kind, value):
    """The command-line text of one option's value."""
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("%s: expected an int, got %r" % (name, value))
        return str(value)
    if kind == "shard" and isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise TypeError("shard: expected 'I/N' or (I, N), got %r" % (value,))
        return "%d/%d" % tuple(value)
    if kind == "list" and not isinstance(value, str):
        value = ",".join(value)
    if not isinstance(value, str):
        value = str(value)  # os.PathLike paths, for instance
    if "\0" in value:
        raise ValueError("%s: the value holds a NUL byte" % name)
    return value


def to_argv(options, allowed=None):
    """The flags for options (a dict), in the table's order. allowed, if
    given, is the subset of OPTIONS this call takes."""
    names = OPTIONS if allowed is None else allowed
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError("unexpected keyword argument%s: %s (known: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(names))))
    argv = []
    for name, (flag, kind) in OPTIONS.items():
        value = options.get(name)
        if value is None or name not in names:
            continue
        if kind == "flag":
            if not isinstance(value, bool):
                raise TypeError("%s: expected True or False, got %r" % (name, value))
            if value:
                argv.append(flag)
            continue
        argv += [flag, _value(name, kind, value)]
    return argv


def ports_text(ports):
    """-p's text for ports: a str as it is, an int, or an iterable of ints
    written as sorted ranges (22,23,80-90)."""
    if isinstance(ports, str):
        return ports
    if isinstance(ports, int) and not isinstance(ports, bool):
        return str(ports)
    nums = sorted(set(ports))
    if not nums:
        raise ValueError("ports: empty")
    for p in nums:
        if isinstance(p, bool) or not isinstance(p, int):
            raise TypeError("ports: expected ints, got %r" % (p,))
    runs, lo, prev = [], nums[0], nums[0]
    for p in nums[1:] + [None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        runs.append(str(lo) if lo == prev else "%d-%d" % (lo, prev))
        lo = prev = p
    return ",".join(runs)
