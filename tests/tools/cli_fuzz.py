#!/usr/bin/env python3
"""cli_fuzz.py: a hostile pass over ringscan's command line, in --dry-run.

Usage: cli_fuzz.py RINGSCAN SCRATCH_DIR   (run it inside a private netns:
tests/e2e/test_cli_fuzz.sh does)
Environment: RS_FUZZ_SEED (default: random, printed), RS_FUZZ_COUNT (400),
RS_FUZZ_SECONDS (45: no new case starts after this long), RS_FUZZ_ONLY=N
(run only case N of the seed's sequence, and show it), RS_FUZZ_MAXFAIL (20).

Each random argument list is built from items (an option and its value, a
target, ...) that know what they mean: ringscan must accept them ("ok"),
must refuse them ("bad"), or may do either ("either": forms whose rule is
not settled, such as leading zeros; accepted means with their decimal
meaning). argv[1] is always --dry-run, so no option can take it as its
value. Every target that is valid in any reading lies in 127.0.0.0/8 or is
::1, and no random text reaches a resolver: targets hold letters only in a
fixed few forms ('localhost', inet_aton's numeric forms such as 0x7f.0.0.1),
and file lines with random bytes never hold a letter. Every file and path
is in SCRATCH_DIR/case, the working directory of every run.

Each run is judged:
  (a) it ends within 10 s;
  (b) exit 0, 1 (only when the output is /dev/full) or 2; never a signal,
      never a sanitizer report;
  (c) exit 2: nothing on stdout, stderr exactly one line 'ringscan: ...'
      without control characters (C0 but tab, DEL, C1 U+0080..U+009F), and
      every file that was there before unchanged; the line names an offending
      argument: it contains a name of one of the bad (or either) items: the
      option as typed, its short or long spelling, 'target' for targets, or
      the value's leading printable run when that is 3 characters or more;
  (d) exit 0: the dry-run output (stdout, or the -o FILE) is well-formed in
      its format, every address in 127.0.0.0/8 or ::1, no pair twice, and
      exactly targets x ports minus exclusions (for a shard: the shard's
      count, all from that set); a --stats FILE holds a JSON object; every
      stderr line starts with 'ringscan: '; -h and -V print help/version;
      for one case in 8, the seed the summary prints replays the output;
  (e) a command line with a bad item must not exit 0 (silent acceptance),
      and one with only ok items must not exit 2.
Known defects' reproducers run first, every time (fixed_cases).
"""
import ipaddress
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import time

OK, BAD, EITHER = "ok", "bad", "either"
LOOP4 = ipaddress.ip_network("127.0.0.0/8")
ONE6 = ipaddress.ip_address("::1")
ONE4 = ipaddress.ip_address("127.0.0.1")
MAX_PAIRS = 70000
TIMEOUT = 10
LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# name: (takes an argument, short letter or None), as in src/cli.c
LONGOPTS = {
    "ports": (True, "p"),
    "input": (True, "i"),
    "exclude": (True, None),
    "exclude-file": (True, None),
    "output": (True, "o"),
    "format": (True, "f"),
    "all": (False, None),
    "workers": (True, "w"),
    "concurrency": (True, "c"),
    "rate": (True, "r"),
    "fixed-rate": (False, None),
    "timeout": (True, "t"),
    "retries": (True, None),
    "seed": (True, None),
    "shard": (True, None),
    "resume": (True, None),
    "checkpoint-interval": (True, None),
    "banner": (False, None),
    "service": (False, None),
    "read-timeout": (True, None),
    "service-intensity": (True, None),
    "service-db": (True, None),
    "db": (True, None),
    "dry-run": (False, None),
    "allow-reserved": (False, None),
    "quiet": (False, "q"),
    "stats": (True, None),
    "engine": (True, None),
    "help": (False, "h"),
    "version": (False, "V"),
}
SHORT_LETTERS = {s for _, s in LONGOPTS.values() if s}
NUMERIC = {  # option: (min, max)
    "workers": (1, 256),
    "concurrency": (1, 1000000),
    "rate": (0, 1000000000),
    "timeout": (1, 3600000),
    "retries": (0, 20),
    "seed": (0, 2**64 - 1),
}
# How often each option is drawn.
WEIGHTS = {
    "ports": 8, "input": 6, "exclude": 4, "exclude-file": 3, "output": 4, "format": 5,
    "all": 2, "workers": 3, "concurrency": 3, "rate": 3, "fixed-rate": 1, "timeout": 3, "retries": 3,
    "seed": 4, "shard": 5, "resume": 1, "checkpoint-interval": 1, "banner": 1,
    "service": 1, "read-timeout": 1, "service-intensity": 1, "service-db": 1,
    "db": 1, "dry-run": 1, "allow-reserved": 1, "quiet": 3, "stats": 3, "engine": 3,
    "help": 1, "version": 1,
}


def frag(s):
    """The leading printable-ASCII run of s, at most 24 characters."""
    return re.match(r"[\x21-\x7e]*", s).group(0)[:24]


def opt_names(long, typed=None):
    """Ways a message may name option LONG (typed as TYPED)."""
    names = ["--" + long]
    if LONGOPTS[long][1]:
        names.append("-" + LONGOPTS[long][1])
    if typed and len(typed) >= 2:
        names.append(typed)
    return names


def value_names(text):
    """The value's leading printable run, else its longest one, if that has
    3 characters or more: what a message that escapes the rest still shows."""
    f = frag(text)
    if len(f) < 3:
        f = max(re.findall(r"[\x21-\x7e]+", text) or [""], key=len)[:24]
    return [f] if len(f) >= 3 else []


class Item:
    """One piece of a command line: its tokens and what it means.
    kind: opt (an option, with meaning['opt']), target, help, dash (a token
    that is an unknown option before '--' and a bad target after it)."""

    def __init__(self, tokens, verdict=OK, names=(), kind="opt", **meaning):
        self.tokens = [t.replace("\0", "") for t in tokens]
        self.verdict = verdict
        self.names = [n for n in names if n]
        self.kind = kind
        self.meaning = meaning


class Gen:
    """Random values and items; one rng drives everything, so a seed and a
    case number replay a case exactly."""

    def __init__(self, rng, casedir, localhost):
        self.r = rng
        self.casedir = casedir
        self.localhost = localhost  # addresses 'localhost' resolves to, or None
        self.files = {}  # name in casedir -> bytes
        self.stdin = None  # (bytes, verdict, ranges) when a '-' reads stdin

    # ---- values ------------------------------------------------------
    def nasty(self):
        r = self.r
        return r.choice(
            ["", " ", "-", "--", "\n", "x\ny", "a\rb", "\x1b[31mred\x1b[0m", "\x7f",
             "\x01\x02", "tab\there", "\u00e9", "\u202etxt", "\u009b31m", "\u00a0",
             "\u65e5\u672c", "%s%n%x", "'\"`$(id)", "A" * r.choice([100, 5000, 70000]),
             "\ufffd", "nosuch", "auto\n", "jsonl\x1b", "--dry-run"])

    def number(self, lo, hi):
        """(text, verdict, value) for a decimal option in [lo, hi]."""
        r = self.r
        k = r.randrange(10)
        if k < 5:
            v = r.choice([lo, hi, r.randint(lo, min(hi, lo + 100)), r.randint(lo, hi)])
            return str(v), OK, v
        if k == 5:
            v = r.randint(max(lo, 1), min(hi, 9999))
            return "0" * r.randint(1, 3) + str(v), EITHER, v
        bad = ["", "-1", "+5", " 5", "5 ", "5\n", "0x10", "1e3", "1.5", "abc", "5abc",
               "9" * 25, str(2**64), str(2**64 + 5), "\u0663", "\uff15", "1" * 5000,
               "\x1b[31m5", "--", "-", "5,", "5\t", str(hi + 1), str(hi + 10**12),
               "-0", "5-6", self.nasty()]
        if lo > 0:
            bad += [str(lo - 1), "0", "00"]
        t = r.choice(bad)
        return t, BAD, None

    def ports(self):
        """(text, verdict, set of ports)."""
        r = self.r
        k = r.randrange(10)
        if k < 6:
            parts, ports = [], set()
            for _ in range(r.randint(1, 4)):
                if r.random() < 0.3:
                    a = r.randint(1, 65535)
                    b = min(65535, a + r.randint(0, 20))
                    parts.append("%d-%d" % (a, b))
                    ports.update(range(a, b + 1))
                else:
                    a = r.choice([1, 22, 23, 80, 443, 65535, r.randint(1, 65535)])
                    parts.append(str(a))
                    ports.add(a)
            return ",".join(parts), OK, ports
        if k == 6:
            t = r.choice(["1-65535", "1-1000", "65535-65535", "22,22,22", "1-3,2-4"])
            return t, OK, parse_ports(t)
        if k == 7:
            a = r.randint(1, 999)
            t = r.choice(["0%d" % a, "00%d" % a, "0%d-0%d" % (a, a), "22,0%d" % a])
            return t, EITHER, parse_ports(t)
        bad = ["", "0", "70000", "65536", "22,", ",22", "22,,23", "90-80", "-5", "5-",
               "1-2-3", " 22", "22 ", "ssh", "0x16", "22\n", "\uff12\uff12", "99999999999",
               "4294967318", "4294967296", "1-65536", "0-5", "*", "22;23", "22\x1b[2J",
               "22/tcp", "-", ",", "1" * 3000, "22:23", "22-", self.nasty()]
        return r.choice(bad), BAD, None

    def v4(self):
        return ipaddress.ip_address((127 << 24) | self.r.randrange(1 << 24))

    def target_ok(self):
        """(text, ranges): a valid loopback target, small."""
        r = self.r
        k = r.randrange(8)
        if k < 3:
            a = self.v4()
            return str(a), [(a, a)]
        if k < 5:
            plen = r.randint(22, 32)
            net = ipaddress.ip_network("%s/%d" % (self.v4(), plen), strict=False)
            host = r.choice([net[0], net[-1], net[r.randrange(net.num_addresses)]])
            return "%s/%d" % (host, plen), [(net[0], net[-1])]
        if k == 5:
            a = self.v4()
            b = ipaddress.ip_address(min(int(a) + r.randint(0, 300), int(LOOP4[-1])))
            return "%s-%s" % (a, b), [(a, b)]
        return r.choice(["::1", "0::1", "0:0:0:0:0:0:0:1", "::0:1", "0000:0000::0001",
                         "::1/128", "::1-::1", "::1-0::1", "::0001"]), [(ONE6, ONE6)]

    def target_either(self):
        """(text, ranges): loopback in a form whose rule is not settled."""
        r = self.r
        a = self.v4()
        o = str(a).split(".")
        k = r.randrange(5)
        if k == 0:  # leading zero in the last part, as '127.0.0.01'
            o[3] = "0" + o[3]
            return ".".join(o), [(a, a)]
        if k == 1:
            o[1] = "00" + o[1]
            return ".".join(o), [(a, a)]
        if k == 2:  # leading zero in the prefix length, as '127.0.0.1/08'
            plen = r.randint(24, 32)
            net = ipaddress.ip_network("%s/%d" % (a, plen), strict=False)
            return "%s/0%d" % (a, plen), [(net[0], net[-1])]
        if k == 3:
            return "::1/0128", [(ONE6, ONE6)]
        # inet_aton's forms of 127.0.0.1 (never a leading zero in the first
        # part: '0177' would read 177 in decimal, outside loopback)
        return r.choice(["127.1", "127.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433"]), [
            (ONE4, ONE4)]

    def target_bad(self):
        r = self.r
        a = str(self.v4())
        return r.choice(
            ["127.0.0.256", "127.0.0", a + ".", "." + a, a + "/33", a + "/", a + "/-1",
             a + "/+8", a + "/24/24", a + "/99999999999", a + "/" + "9" * 30, a + "-",
             "127.0.0.5-127.0.0.1", a + "-::1", a + ":22", a + " ", " " + a, a + "\n",
             a + "\t", a + "\r", a + "\x1b[2J", "\x1b[2J" + a, "", "/", "-", ",",
             a + "," + a, a + "--127.0.0.2", a + "/32-127.0.0.2", "127.0.0.\uff11",
             "\uff11\uff12\uff17.0.0.1", "127\u30020\u30020\u30021", "1" * 5000,
             "127.0.0.1" * 500, "::1/129", ":::1", "::1::", "::g", "[::1]", "::1-::0",
             "::1/", "::1/-1", "1::1::1", "::ffff:127.0.0.256", "::1 ", "::1\n",
             "127.0.0.1/8\x1b", "%s%n", "'\"$(id)", "@!", "127.0.0.1/2\u0663",
             "127.0.0.1/\u00b2", "127.0.0.1\u200b", "\u0661\u0662\u0667.0.0.1",
             "127.0.0.1/32\n127.0.0.2"])

    def target(self):
        """(text, verdict, ranges) of a positional target."""
        k = self.r.randrange(20)
        if k < 13:
            t, rng = self.target_ok()
            return t, OK, rng
        if k == 13:
            if self.localhost is None:
                return "localhost", BAD, None
            return "localhost", OK, [(a, a) for a in self.localhost]
        if k == 14:
            t, rng = self.target_either()
            return t, EITHER, rng
        return self.target_bad(), BAD, None

    def garbage_line(self):
        """Bytes that are never a target and hold no letter (so never a
        name to resolve) and no newline."""
        r = self.r
        junk = bytes(r.randrange(256) for _ in range(r.randint(0, 80)))
        return b"!" + junk.replace(b"\n", b"").translate(None, LETTERS)

    def target_lines(self):
        """(bytes, verdict, ranges) of a targets file (-i, --exclude-file)."""
        r = self.r
        lines, verdict, ranges = [], OK, []
        for _ in range(r.randint(0, 6)):
            k = r.randrange(13)
            if k < 6:
                t, rng = self.target_ok()
                ranges += rng
                tail = r.choice([b"", b" ", b"\t", b" # note", b"#x", b"\r", b"  #a b c"])
                lines.append(r.choice([b"", b"  ", b"\t"]) + t.encode() + tail)
            elif k < 8:
                lines.append(r.choice([b"", b"   ", b"# comment", b"#", b"\t# x y", b"\r"]))
            elif k == 8:
                t, rng = self.target_either()
                ranges += rng
                lines.append(t.encode())
                verdict = BAD if verdict == BAD else EITHER
            elif k == 9 and self.localhost is not None:
                ranges += [(a, a) for a in self.localhost]
                lines.append(b"localhost")
            else:
                verdict = BAD
                bad = self.target_bad()
                if bad.strip(" \t\r\n\x0b\x0c") != bad or "\n" in bad or not bad:
                    bad = "!" + bad  # a blank line is fine; a split one is two
                lines.append(r.choice(
                    [bad.encode(), b"127.0.0.1 127.0.0.2", b"127.0.0.1\t::1",
                     b"127.0.0.1\x00", b"\x00", self.garbage_line(), b"\xff\xfe",
                     b"127.0.0.1," + str(self.v4()).encode(), b"1" * 100000]))
        end = r.choice([b"\n", b"\r\n"])
        data = end.join(lines) + (end if lines and r.random() < 0.8 else b"")
        return data, verdict, ranges

    def exclude_list(self):
        """(text, verdict, ranges) for --exclude: no empty items."""
        r = self.r
        a = self.v4()
        if r.random() < 0.75:
            parts, ranges = [], []
            for _ in range(r.randint(1, 3)):
                if r.random() < 0.15:
                    parts.append("127.0.0.0/8")
                    ranges.append((LOOP4[0], LOOP4[-1]))
                else:
                    t, rng = self.target_ok()
                    parts.append(t)
                    ranges += rng
            return ",".join(parts), OK, ranges
        if r.random() < 0.2:
            # The CLI documents --exclude as a list of targets, and targets
            # include names: refusing names there is a rule of its own.
            if self.localhost is None:
                return "localhost", BAD, None
            return "%s,localhost" % a, EITHER, [(a, a)] + [(x, x) for x in self.localhost]
        t = r.choice(["", ",", "%s," % a, ",%s" % a, "%s,,%s" % (a, a), self.target_bad()])
        if "," in t.strip(","):  # 'a,b' is a bad target but maybe a good list
            t += ","
        return t, BAD, None

    # ---- option items ------------------------------------------------
    def file_arg(self, opt, n):
        """(path, verdict, meaning) for -i or --exclude-file."""
        r = self.r
        k = r.randrange(12)
        if k < 6:
            name = "%s%d" % ("in" if opt == "input" else "ex", n)
            data, verdict, ranges = self.target_lines()
            if opt == "exclude-file" and verdict == OK and b"localhost" in data:
                verdict = EITHER  # names in exclusions: a rule of its own
            self.files[name] = data
            path = name if r.random() < 0.6 else os.path.join(self.casedir, name)
            return path, verdict, ranges
        if k < 8:
            if self.stdin is None:
                self.stdin = self.target_lines()
                if r.random() < 0.2:  # garbage, with no letter in it
                    junk = bytes(r.randrange(256) for _ in range(r.randint(1, 2000)))
                    self.stdin = (b"!" + junk.translate(None, LETTERS), BAD, None)
            return "-", "stdin", None
        if k == 8:
            return "/dev/null", OK, []
        return r.choice(["", "nofile", "nodir/x", "d", "d/", "/proc/self/mem",
                         "in0\n", self.nasty().replace("-", "x-") or "x"]), BAD, None

    def out_path(self):
        """A path for -o or --stats: mostly a handful, so that they meet."""
        r = self.r
        pool = ["out", "./out", os.path.join(self.casedir, "out"), "d/../out", "st.json",
                os.path.join(self.casedir, "st.json"), "in0", "/dev/null"]
        return r.choice(pool)

    def value_for(self, opt, n):
        """(text, verdict, meaning dict, extra names) of OPT's value."""
        r = self.r
        if opt == "ports":
            t, v, ports = self.ports()
            return t, v, {"ports": ports}
        if opt in ("input", "exclude-file"):
            path, v, ranges = self.file_arg(opt, n)
            return path, v, {"ranges": ranges, "path": path}
        if opt == "exclude":
            t, v, ranges = self.exclude_list()
            return t, v, {"ranges": ranges}
        if opt == "output":
            k = r.randrange(10)
            if k < 6:
                return self.out_path(), OK, {}
            if k == 6:
                return r.choice(["/dev/stdout", "-"]), EITHER, {}
            if k == 7:
                return "/dev/full", OK, {}
            return r.choice(["", "d", "d/", "nodir/x", "out/"]), BAD, {}
        if opt == "stats":
            if r.random() < 0.75:
                # a dry run has no summary: writing one or refusing --stats
                # are both fine, an empty file is not (judge checks)
                return self.out_path(), EITHER, {}
            return r.choice(["", "d", "nodir/x", "st/"]), BAD, {}
        if opt == "format":
            k = r.randrange(10)
            if k < 6:
                return r.choice(["jsonl", "csv", "list"]), OK, {}
            if k == 6:
                return r.choice(["xml", "JSONL", "Csv"]), EITHER, {}
            return r.choice(["", "json", "nosuch", "list\n", "csv,", "\x1b[31mjsonl",
                             "jsonl ", " list", "l", "jsonl\tcsv", self.nasty()]), BAD, {}
        if opt == "engine":
            k = r.randrange(10)
            if k < 7:
                return r.choice(["auto", "uring", "epoll", "compat"]), OK, {}
            return r.choice(["", "AUTO", "fast", "auto\n", "compat ", "a", "Epoll", "io_uring",
                             self.nasty()]), BAD, {}
        if opt == "shard":
            k = r.randrange(10)
            if k < 6:
                cnt = r.choice([1, 2, 3, 5, 8, 4294967295])
                i = r.randrange(min(cnt, 8)) if cnt < 100 else r.choice([0, cnt - 1])
                return "%d/%d" % (i, cnt), OK, {"shard": (i, cnt)}
            if k == 6:
                t = r.choice(["00/2", "1/02", "01/3"])
                i, cnt = (int(x) for x in t.split("/"))
                return t, EITHER, {"shard": (i, cnt)}
            return r.choice(["3/2", "2/2", "0/0", "1", "/2", "0/", "0/2/3", "-1/2",
                             "0/4294967296", "4294967295/4294967295", " 0/2", "0/2 ", "a/b",
                             "0\n/2", "1/1", "", "/", "0/-1", "0/+2", "0//2",
                             "9" * 40 + "/2", self.nasty()]), BAD, {}
        if opt in NUMERIC:
            t, v, val = self.number(*NUMERIC[opt])
            return t, v, {"value": val}
        if opt == "db":  # never with --dry-run (and never created then)
            return r.choice(["inv.db", "out", "", "nodir/x.db", os.path.join(self.casedir, "d.db")]), BAD, {}
        if opt == "resume":  # never with --dry-run
            return r.choice(["ck", "out", "", "nodir/ck", os.path.join(self.casedir, "ck")]), BAD, {}
        if opt == "read-timeout":  # only with --banner or --service: maybe here
            t, v, _ = self.number(10, 600000)
            return t, BAD if v == BAD else EITHER, {}
        if opt == "service-intensity":  # only with --service: maybe here
            t, v, _ = self.number(0, 9)
            return t, BAD if v == BAD else EITHER, {}
        if opt == "service-db":  # only with --banner or --service, a database that parses
            return r.choice(["/usr/share/nmap/nmap-service-probes", "/dev/null", "nosuch",
                             "/etc/passwd", ""]), EITHER, {}
        if opt == "checkpoint-interval":  # only with --resume: never here
            t, _, _ = self.number(10, 3600000)
            return t, BAD, {}
        raise AssertionError(opt)

    def option(self, n):
        """An option item: an option drawn by weight, spelt one of many
        ways, with a value from its grammar."""
        r = self.r
        opt = r.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        has_arg, short = LONGOPTS[opt]
        if opt in ("help", "version"):
            tok = r.choice(["-" + short, "--" + opt, "-q" + short, "--" + opt[:r.randint(3, len(opt))]])
            return Item([tok], OK, kind="help")
        if not has_arg:
            verdict = OK
            if short and r.random() < 0.5:
                return Item(["-" + short * r.randint(1, 3)], verdict, opt_names(opt), opt=opt)
            if r.random() < 0.15:  # a flag given a value
                tok = "--%s=%s" % (opt, r.choice(["", "1", "yes"]))
                return Item([tok], BAD, opt_names(opt, tok.split("=")[0]) + [tok])
            spelt, ok = self.spell(opt)
            return Item([spelt], verdict if ok else BAD, opt_names(opt, spelt), opt=opt)
        text, verdict, meaning = self.value_for(opt, n)
        meaning["text"] = text
        names = opt_names(opt) + value_names(text) * (opt in ("input", "exclude-file", "exclude"))
        if short and r.random() < 0.45:
            lead = "-" + "q" * (r.random() < 0.25) + short
            names.append(lead)
            if text and not text.startswith("\n") and r.random() < 0.5:
                toks = [lead + text]
            else:
                toks = [lead, text]
            return Item(toks, verdict, names, opt=opt, **meaning)
        spelt, ok = self.spell(opt)
        names.append(spelt)
        if not ok:
            verdict = BAD
        if r.random() < 0.4:
            toks = ["%s=%s" % (spelt, text)]
        else:
            toks = [spelt, text]
        return Item(toks, verdict, names, opt=opt, **meaning)

    def spell(self, opt):
        """--OPT, or a prefix of it: (text, whether getopt_long takes it)."""
        if self.r.random() > 0.2:
            return "--" + opt, True
        p = opt[: self.r.randint(1, len(opt))]
        hits = [o for o in LONGOPTS if o.startswith(p)]
        if p in LONGOPTS and p != opt:  # "--exclude" is not "--exclude-file"
            return "--" + opt, True
        return "--" + p, p in LONGOPTS or len(hits) == 1

    def unknown(self):
        """An unknown option, alone or among known short ones."""
        r = self.r
        k = r.randrange(4)
        if k == 0:
            c = r.choice("zxyPQ1?:!+@")
            tok = r.choice(["-%s", "-%sq", "-q%s", "-q%sp22", "-%s22"]) % c
            return Item([tok], BAD, ["-" + c, tok, "'%s'" % c])
        if k == 1:
            tok = "--" + r.choice(["bogus", "ports-list", "port-s", "servic", "services",
                                   "X", "dryrun", "dry_run", "exclude-files", "=5", "-",
                                   "\x1b[2J", "a" * 3000, "all-x", "Q", "P", "x\ny"])
            if r.random() < 0.3:
                tok += "=" + r.choice(["", "1", "22"])
            name = tok.split("=")[0]
            names = [name[:24], tok[:24]] if len(frag(name)) > 2 or "=" in tok else []
            return Item([tok], BAD, names + value_names(name))
        if k == 2:  # ambiguous abbreviations
            tok = r.choice(["--e", "--ex", "--exclud", "--a", "--al", "--c", "--r", "--s",
                            "--st", "--d"])
            # '--exclud' is a prefix of two; '--al' only of 'all' and 'allow-reserved'
            hits = [o for o in LONGOPTS if o.startswith(tok[2:])]
            if len(hits) == 1:
                opt = hits[0]
                if LONGOPTS[opt][0]:
                    return None
                return Item([tok], OK, opt_names(opt, tok), opt=opt)
            return Item([tok], BAD, [tok])
        # a target-looking token starting with '-' (an option unless after '--')
        tok = "-" + str(self.v4()) if r.random() < 0.7 else r.choice(["-::1", "-1", "-127.0.0.0/8"])
        return Item([tok], BAD, ["-" + tok[1], tok], kind="dash")


def parse_ports(text):
    ports = set()
    for part in text.split(","):
        a, _, b = part.partition("-")
        ports.update(range(int(a), int(b or a) + 1))
    return ports


def build_case(g):
    """Draw one case: (argv after argv[0], items in order, stdin bytes)."""
    r = g.r
    items = []
    n = 0
    for _ in range(r.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, 7])):
        items.append(g.option(n))
        n += 1
    for _ in range(r.choice([0, 1, 1, 1, 2, 2, 3])):
        t, v, rng = g.target()
        names = ["target"] + value_names(t)
        items.append(Item([t], v, names, kind="target", ranges=rng))
    for _ in range(r.choice([0, 0, 0, 1])):
        it = g.unknown()
        if it:
            items.append(it)
    r.shuffle(items)
    if r.random() < 0.12:  # '--': everything after it is a target
        tail = [i for i in items if i.kind in ("target", "dash")]
        items = [i for i in items if i.kind not in ("target", "dash")] + [Item(["--"], kind="dd")] + tail
    elif r.random() < 0.08:  # an option that needs a value, last, without one
        opt = r.choice([o for o in LONGOPTS if LONGOPTS[o][0]])
        short = LONGOPTS[opt][1]
        tok = r.choice(["--" + opt] + (["-" + short, "-q" + short] if short else []))
        items.append(Item([tok], BAD, opt_names(opt, tok), kind="missing"))
    argv = ["--dry-run"] + [t for i in items for t in i.tokens]
    return argv, items, g.stdin


def model(items, stdin, casedir):
    """What ringscan must do: (outcomes, names, success model). outcomes
    holds some of 'help', 'ok', 'fail', 2; names: what an exit 2 message
    may name."""
    bad, either = [], []
    after_dd = False
    addrs, excl = [], []
    ports_items, ports = [], {22, 23}
    seed = shard = fmt = output = stats = None
    helps = []
    in_paths = []
    stdin_used = False
    # An option with one value given again: the last one wins, or the
    # repetition is refused (as -p's is); either is fine. Values checked
    # only once parsing is over (-o, --stats, -f) matter only when last.
    last = {it.meaning["opt"]: n for n, it in enumerate(items) if it.meaning.get("opt")}
    seen = set()
    for n, it in enumerate(items):
        if it.kind == "dd":
            after_dd = True
            continue
        verdict, names = it.verdict, it.names
        if it.kind == "dash" and after_dd:
            names = ["target"] + value_names(it.tokens[0])
        if it.kind == "help":
            helps.append(it.tokens[0])
            continue
        m = it.meaning
        opt = m.get("opt")
        if opt and LONGOPTS[opt][0] and opt not in ("ports", "input", "exclude", "exclude-file"):
            if opt in seen:
                either.append(names)
            seen.add(opt)
            if n != last[opt] and opt in ("output", "stats", "format") and verdict == BAD:
                verdict = EITHER
        if opt in ("input", "exclude-file") and m["path"] == "-" and verdict != BAD:
            if stdin_used or stdin is None:
                verdict, ranges = OK, []
            else:
                data, verdict, ranges = stdin
                if opt == "exclude-file" and verdict == OK and b"localhost" in data:
                    verdict = EITHER  # names in exclusions: a rule of its own
            stdin_used = True
            m = dict(m, ranges=ranges)
        if verdict == BAD:
            bad.append(names)
            continue
        if verdict == EITHER:
            either.append(names)
        if it.kind == "target":
            addrs += m["ranges"]
        elif opt == "input":
            addrs += m["ranges"] or []
            in_paths.append(m["path"])
        elif opt == "exclude-file":
            excl += m["ranges"] or []
            in_paths.append(m["path"])
        elif opt == "exclude":
            excl += m["ranges"]
        elif opt == "ports":
            ports_items.append(it)
            ports = m["ports"]
        elif opt == "seed":
            seed = m["value"]
        elif opt == "shard":
            shard = m["shard"]
        elif opt == "output":
            output = m["text"]
        elif opt == "stats":
            stats = m["text"]
        elif opt == "format":
            fmt = m["text"]
    if len(ports_items) > 1:
        bad.append(["-p", "--ports"])
    has_targets = any(i.kind in ("target", "dash") and (i.kind == "target" or after_dd) for i in items)
    if not has_targets and not addrs:
        bad.append(["target"])
    if shard is not None and seed is None:
        bad.append(["--shard", "--seed"])
    space = expand(addrs, excl)
    if has_targets or addrs:
        if not space:
            bad.append(["target", "exclu"])
    place = lambda p: p if p.startswith("/dev/") else os.path.normpath(os.path.join(casedir, p))
    if output is not None and stats is not None and place(output) == place(stats):
        (either if output.startswith("/dev/") else bad).append(["-o", "--output", "--stats"])
    # Writing over an input file: not a rule of the CLI (yet); either is fine.
    for o in (output, stats):
        if o is not None and any(place(o) == place(p) for p in in_paths if p != "-"):
            either.append(["-o", "--output", "--stats", "-i", "--input", "--exclude-file"])
    success = "fail" if output == "/dev/full" else "ok"
    names = [n for ns in bad + either for n in ns]
    if helps:
        outs = {"help"} | ({2} if bad or either else set())
    elif bad:
        outs = {2}
    elif either:
        outs = {2, success}
    else:
        outs = {success}
    succ = dict(space=space, ports=ports, shard=shard, fmt=fmt or "jsonl", output=output,
                stats=stats, helps=helps)
    return outs, names, succ


def expand(ranges, excl):
    """The addresses of ranges minus excl, as a set of ip_address."""
    out = set()
    for lo, hi in ranges:
        for a in range(int(lo), int(hi) + 1):
            out.add(ipaddress.ip_address(a) if lo.version == 4 else ipaddress.IPv6Address(a))
    for lo, hi in excl:
        out = {a for a in out if not (a.version == lo.version and lo <= a <= hi)}
    return out


LINE_RE = {
    "jsonl": re.compile(rb'^\{"ip":"([0-9a-f.:]+)","port":([0-9]+)\}$'),
    "csv": re.compile(rb"^([0-9a-f.:]+),([0-9]+)$"),
    "list": re.compile(rb"^(?:\[([0-9a-f:]+)\]|([0-9.]+)):([0-9]+)$"),
}


def check_pairs(data, fmt, succ):
    """Why the dry-run output DATA is wrong, or None."""
    if data and not data.endswith(b"\n"):
        return "output does not end with a newline"
    lines = data.split(b"\n")[:-1]
    if fmt == "csv":
        if not lines or lines[0] != b"ip,port":
            return "csv output without its 'ip,port' header"
        lines = lines[1:]
    seen = set()
    for ln in lines:
        m = LINE_RE[fmt].match(ln)
        if not m:
            return "malformed %s line %r" % (fmt, ln[:100])
        g = [x for x in m.groups() if x is not None]
        ip, port = g[0].decode(), int(g[1])
        try:
            a = ipaddress.ip_address(ip)
        except ValueError:
            return "not an address: %r" % ln[:100]
        if str(a) != ip:
            return "address not in canonical form: %r" % ln[:100]
        if fmt == "list" and (a.version == 6) != ln.startswith(b"["):
            return "list line brackets wrong: %r" % ln[:100]
        if not (a in LOOP4 if a.version == 4 else a == ONE6):
            return "SAFETY: address outside 127.0.0.0/8 and ::1: %r" % ln[:100]
        if not 1 <= port <= 65535:
            return "port out of range: %r" % ln[:100]
        if (a, port) in seen:
            return "pair printed twice: %r" % ln[:100]
        seen.add((a, port))
    want = {(a, p) for a in succ["space"] for p in succ["ports"]}
    if succ["shard"]:
        i, n = succ["shard"]
        total = len(want)
        count = total * (i + 1) // n - total * i // n
        if len(seen) != count or not seen <= want:
            return "shard %d/%d of %d pairs: printed %d (want %d)%s" % (
                i, n, total, len(seen), count, "" if seen <= want else ", some not in the space")
    elif seen != want:
        extra, missing = seen - want, want - seen
        return "printed %d pairs, want %d: %d extra (e.g. %s), %d missing (e.g. %s)" % (
            len(seen), len(want), len(extra), sorted(extra, key=str)[:2], len(missing),
            sorted(missing, key=str)[:2])
    return None


# C0 (tab aside), DEL, and the C1 controls U+0080..U+009F in UTF-8.
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]")
SANITIZER = re.compile(rb"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")


def judge(rc, out, err, outs, names, succ, casedir):
    """Why this run is wrong, or None."""
    if rc is None:
        return "HANG: no exit within %d s" % TIMEOUT
    if SANITIZER.search(err):
        return "SANITIZER: a report (exit %d)" % rc
    if rc < 0 or rc not in (0, 1, 2):
        return "CRASH: exit %d" % rc
    if rc == 2 and err.count(b"\n") != 1:
        return "MULTILINE: error of %d lines: %r" % (err.count(b"\n"), err[:300])
    if err and not err.endswith(b"\n"):
        return "STDERR: does not end with a newline: %r" % err[-100:]
    for ln in err.split(b"\n")[:-1]:
        if not ln.startswith(b"ringscan: "):
            return "STDERR: a line without 'ringscan: ': %r" % ln[:120]
        if CONTROL.search(ln):
            return "CONTROL: raw control character in message: %r" % ln[:200]
    if rc == 2:
        if 2 not in outs:
            return "REFUSED: a valid command line: %r" % err[:300]
        if out:
            return "STDOUT: exit 2 with output on stdout: %r" % out[:100]
        text = err.decode("utf-8", "replace")
        if not any(n in text for n in names):
            return "NAMING: message names none of %r: %r" % (names[:8], err[:300])
        return None
    if rc == 1:
        if "fail" not in outs:
            return "EXIT1: runtime failure in a dry run: %r" % err[:300]
        return None if err.count(b"\n") == 1 else "EXIT1: %d stderr lines" % err.count(b"\n")
    # rc == 0
    if "help" in outs:
        if not (out.startswith(b"Usage: ringscan") or re.match(rb"^ringscan \S+\n$", out)):
            return "HELP: -h/-V stdout is not the help or the version: %r" % out[:100]
        return None
    if 2 in outs and "ok" not in outs:
        return "SILENT: exit 0 for a bad command line: stderr %r" % err[:200]
    if "fail" in outs:
        return "SILENT: exit 0 though the output is /dev/full"
    fmt = succ["fmt"]
    if fmt not in LINE_RE:
        return None  # an 'either' format: nothing to check
    data = out
    o = succ["output"]
    if o is not None and o not in ("/dev/stdout", "/dev/null"):
        path = os.path.join(casedir, o)
        if out:
            if o != "-":
                return "OUTPUT: on stdout though -o %r" % o
        else:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                return "OUTPUT: -o %r: cannot read it back: %s" % (o, e)
    if o != "/dev/null":
        why = check_pairs(data, fmt, succ)
        if why:
            return why if why.startswith("SAFETY") else "OUTPUT: " + why
    s = succ["stats"]
    if s is not None and not s.startswith("/dev/"):
        try:
            with open(os.path.join(casedir, s), "rb") as f:
                doc = json.loads(f.read())
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as e:
            return "STATS: --stats %r holds no JSON object after exit 0 (%s)" % (s, e)
    return None


def replay(binary, argv, items, stdin, out, err, casedir, asan):
    """The seed the summary prints gives the same order again (DESIGN.md:
    'default: random, printed in summary'); or None when there is none."""
    m = re.search(rb"dry run: .*seed ([0-9]+)", err)
    if not m or any(it.meaning.get("opt") == "seed" for it in items):
        return None
    again = argv[:1] + ["--seed", m.group(1).decode()] + argv[1:]
    rc, out2, _ = run_one(binary, again, stdin, casedir, asan)
    if rc != 0 or out2 != out:
        return "SEED: the printed seed %s does not give the same output again (exit %s)" % (
            m.group(1).decode(), rc)
    return None


def untouched(casedir, files):
    """After a refusal: why a file that was there before differs, or None."""
    for name, data in files.items():
        try:
            with open(os.path.join(casedir, name), "rb") as f:
                now = f.read()
        except OSError as e:
            now = str(e).encode()
        if now != data:
            return "CLOBBERED: a refused command line changed %r (%d bytes, was %d)" % (
                name, len(now), len(data))
    return None


def bash_quote(s):
    if re.fullmatch(r"[A-Za-z0-9_./:,=+@%-]+", s):
        return s
    if re.search(r"[\x00-\x1f\x7f-\U0010ffff']", s):
        out = ""
        for ch in s:
            o = ord(ch)
            if ch == "'" or ch == "\\":
                out += "\\" + ch
            elif 0x20 <= o < 0x7f:
                out += ch
            else:
                out += "".join("\\x%02x" % b for b in ch.encode("utf-8", "surrogateescape"))
        return "$'" + out + "'"
    return "'" + s + "'"


def short(b, n=160):
    s = repr(b[:n])
    return s + ("...(%d bytes)" % len(b) if len(b) > n else "")


def run_one(binary, argv, stdin, casedir, asan):
    def limits():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if not asan:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    with open(os.path.join(casedir, ".stdout"), "w+b") as so, \
            open(os.path.join(casedir, ".stderr"), "w+b") as se:
        try:
            p = subprocess.run([binary] + argv, stdin=subprocess.DEVNULL if stdin is None else None,
                               input=stdin, stdout=so, stderr=se, cwd=casedir,
                               timeout=TIMEOUT, preexec_fn=limits)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = None
        so.seek(0)
        se.seek(0)
        return rc, so.read(), se.read()


def fresh_dir(casedir, files):
    shutil.rmtree(casedir, ignore_errors=True)
    os.makedirs(os.path.join(casedir, "d"))
    for name, data in files.items():
        with open(os.path.join(casedir, name), "wb") as f:
            f.write(data)


def fixed_cases():
    """Known defects' reproducers, always run first: (argv, outs, names,
    what an accepted run must have printed)."""
    one = {"space": {ONE4}, "ports": {22}}
    return [
        (["--dry-run", "-zq", "127.0.0.1"], {2}, ["-z"], {}),
        (["--dry-run", "-p", "22", "-127.0.0.1"], {2}, ["-1", "-127.0.0.1"], {}),
        (["--dry-run", "-f", "list\n", "127.0.0.1"], {2}, ["-f"], {}),
        (["--dry-run", "-q", "--engine", "\x1b[2Jx", "127.0.0.1"], {2}, ["--engine"], {}),
        (["--dry-run", "-q", "-o", "out", "--stats", "out", "127.0.0.1"], {2}, ["--stats"], {}),
        (["--dry-run", "-o", "out", "-h"], {"help"}, [], {"helps": ["-h"]}),
        (["--dry-run", "-o", "out", "-V"], {"help"}, [], {"helps": ["-V"]}),
        (["--dry-run", "-q", "-p", "22", "--stats", "st.json", "127.0.0.1"], {2, "ok"},
         ["--stats"], dict(one, stats="st.json")),
    ]


def localhost_addrs():
    try:
        infos = socket.getaddrinfo("localhost", None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except OSError:
        return None
    addrs = {ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos}
    if not all((a in LOOP4) if a.version == 4 else a == ONE6 for a in addrs):
        return None  # never a name that leaves loopback (the test skips it)
    return sorted(addrs, key=lambda a: (a.version, a))


def main():
    binary, scratch = sys.argv[1], sys.argv[2]
    seed = int(os.environ.get("RS_FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))
    count = int(os.environ.get("RS_FUZZ_COUNT", "400"))
    seconds = float(os.environ.get("RS_FUZZ_SECONDS", "45"))
    only = os.environ.get("RS_FUZZ_ONLY")
    maxfail = int(os.environ.get("RS_FUZZ_MAXFAIL", "20"))
    casedir = os.path.join(os.path.abspath(scratch), "case")
    with open(binary, "rb") as f:
        asan = b"__asan_init" in f.read()
    localhost = localhost_addrs()
    print("cli_fuzz: seed %d (RS_FUZZ_SEED=%d reproduces), up to %d cases or %.0f s, %s%s"
          % (seed, seed, count, seconds, binary, " (ASan)" if asan else ""), flush=True)
    fails, kinds, ran, t0 = [], {}, 0, time.monotonic()

    def report(label, argv, stdin, files, why, rc, err):
        kind = why.split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        fails.append(label)
        if len(fails) > maxfail:
            return
        print("FAIL %s: %s" % (label, why))
        print("    ringscan " + " ".join(bash_quote(a) for a in argv))
        if stdin is not None:
            print("    stdin: %s" % short(stdin))
        for name, data in files.items():
            print("    file %s: %s" % (name, short(data)))
        print("    exit %s, stderr: %s" % (rc, short(err, 300)), flush=True)

    if only is None:
        for argv, outs, names, want in fixed_cases():
            fresh_dir(casedir, {})
            rc, out, err = run_one(binary, argv, None, casedir, asan)
            succ = dict(helps=[], fmt="jsonl", output=None, stats=None, space=set(),
                        ports=set(), shard=None)
            succ.update(want)
            why = judge(rc, out, err, outs, names, succ, casedir)
            if why:
                report("fixed case", argv, None, {}, why, rc, err)
            ran += 1
        # One rule for leading zeros: in the prefix length and in a part.
        res = []
        for t in ("127.0.0.1/032", "127.0.0.01"):
            fresh_dir(casedir, {})
            rc, out, err = run_one(binary, ["--dry-run", "-q", "-p", "22", t], None, casedir, asan)
            res.append((rc, out))
            ran += 1
        if res[0][0] != res[1][0] or (res[0][0] == 0 and res[0][1] != res[1][1]):
            report("fixed case", ["--dry-run", "-q", "-p", "22", "127.0.0.1/032 | 127.0.0.01"],
                   None, {}, "ZEROS: '127.0.0.1/032' gives exit %s, '127.0.0.01' exit %s"
                   % (res[0][0], res[1][0]), res[0][0], b"")

    rng = random.Random(seed)
    for n in range(count if only is None else int(only) + 1):
        if only is None and time.monotonic() - t0 > seconds:
            break
        while True:  # draw until the space is small enough to print
            g = Gen(random.Random(rng.getrandbits(64)), casedir, localhost)
            argv, items, stdin = build_case(g)
            outs, names, succ = model(items, stdin, casedir)
            if len(succ["space"]) * len(succ["ports"]) <= MAX_PAIRS:
                break
        if only is not None and n != int(only):
            continue
        fresh_dir(casedir, g.files)
        stdin_bytes = stdin[0] if stdin else None
        rc, out, err = run_one(binary, argv, stdin_bytes, casedir, asan)
        why = judge(rc, out, err, outs, names, succ, casedir)
        if not why and rc == 2:
            why = untouched(casedir, g.files)
        if not why and rc == 0 and out and n % 8 == 0:
            why = replay(binary, argv, items, stdin_bytes, out, err, casedir, asan)
            ran += 1
        ran += 1
        if only is not None:
            print("case %d: ringscan %s\n  expected %s; exit %s\n  stderr %s\n  stdout %s"
                  % (n, " ".join(bash_quote(a) for a in argv), sorted(map(str, outs)), rc,
                     short(err, 300), short(out)))
        if why:
            report("case %d (RS_FUZZ_SEED=%d RS_FUZZ_ONLY=%d)" % (n, seed, n), argv, stdin_bytes,
                   g.files, why, rc, err)
    shutil.rmtree(casedir, ignore_errors=True)
    secs = time.monotonic() - t0
    print("cli_fuzz: %d command lines in %.1f s, %d failed%s" % (
        ran, secs, len(fails), "".join("; %d %s" % (v, k) for k, v in sorted(kinds.items()))))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
