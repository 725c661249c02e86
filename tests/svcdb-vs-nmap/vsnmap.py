#!/usr/bin/env python3
"""Helpers of run.sh (ringscan's svcdb against nmap -sV itself).

  vsnmap.py gen DB PROBE COUNT SEED   responses made up from the rules of
                                      PROBE in DB, one hex line each
  vsnmap.py pick MODE PORT0 SAMPLES ANSWERS CASES EXPECT
                                      keep the samples svcdb hard-matches,
                                      each on its own port from PORT0
  vsnmap.py serve CASES               listen on 127.0.0.1 (only inside a
                                      private network namespace): "banner"
                                      services speak first, "respond" ones
                                      answer any request, then close
  vsnmap.py compare EXPECT NMAP_XML   every field of every port must agree
"""
import json
import random
import re
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET

try:
    import re._parser as sre
    from re._constants import (ANY, ASSERT, ASSERT_NOT, AT, BRANCH, CATEGORY,
                               CATEGORY_DIGIT, CATEGORY_NOT_DIGIT,
                               CATEGORY_NOT_SPACE, CATEGORY_NOT_WORD,
                               CATEGORY_SPACE, CATEGORY_WORD, GROUPREF, IN,
                               LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE,
                               NOT_LITERAL, RANGE, SUBPATTERN)
except ImportError:  # Python < 3.11
    import sre_parse as sre
    from sre_constants import (ANY, ASSERT, ASSERT_NOT, AT, BRANCH, CATEGORY,
                               CATEGORY_DIGIT, CATEGORY_NOT_DIGIT,
                               CATEGORY_NOT_SPACE, CATEGORY_NOT_WORD,
                               CATEGORY_SPACE, CATEGORY_WORD, GROUPREF, IN,
                               LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE,
                               NOT_LITERAL, RANGE, SUBPATTERN)

CLASSES = {CATEGORY_DIGIT: b'0123456789', CATEGORY_WORD: b'abcXYZ_09',
           CATEGORY_SPACE: b' \t\r\n', CATEGORY_NOT_DIGIT: b'ab -',
           CATEGORY_NOT_WORD: b' -.', CATEGORY_NOT_SPACE: b'ab1'}


def pick_in(items):
    """One byte of a character class."""
    neg = any(op is NEGATE for op, _ in items)
    cands = set()
    for op, av in items:
        if op is LITERAL:
            cands.add(av)
        elif op is RANGE:
            cands.update(range(av[0], min(av[1], av[0] + 40) + 1))
        elif op is CATEGORY:
            cands.update(CLASSES.get(av, b''))
    if neg:
        return random.choice([c for c in range(1, 256) if c not in cands and c != 10])
    return random.choice(sorted(cands)) if cands else ord('a')


def gen(tree, caseless, groups):
    """A byte string the parsed regex matches (most of the time)."""
    s = bytearray()
    for op, av in tree:
        if op is LITERAL:
            c = av
            if caseless and c < 128 and chr(c).isalpha() and random.random() < 0.5:
                c = ord(chr(c).swapcase())
            s.append(c)
        elif op is NOT_LITERAL:
            s.append(random.choice([x for x in range(32, 127) if x != av]))
        elif op is ANY:
            s.append(random.choice(b'abcXYZ019 .-'))
        elif op is IN:
            s.append(pick_in(av))
        elif op in (MAX_REPEAT, MIN_REPEAT):
            lo, hi, sub = av
            for _ in range(random.randint(lo, min(hi, lo + 3))):
                s += gen(sub, caseless, groups)
        elif op is SUBPATTERN:
            t = gen(av[-1], caseless, groups)
            if av[0]:
                groups[av[0]] = bytes(t)
            s += t
        elif op is BRANCH:
            s += gen(random.choice(av[1]), caseless, groups)
        elif op is GROUPREF:
            s += groups.get(av, b'')
        elif op in (AT, ASSERT, ASSERT_NOT):
            pass
        else:
            raise ValueError(op)
    return s


def cmd_gen(db, probe, count, seed):
    random.seed(int(seed))
    rules, cur = [], None
    for line in open(db, 'rb'):
        if line.startswith(b'Probe '):
            f = line.split()
            cur = (f[1], f[2].decode())
        elif cur == (b'TCP', probe) and re.match(rb'(soft)?match ', line):
            rest = line.split(b' ', 2)[2]
            end = rest.index(rest[1:2], 2)
            pat, flags = rest[2:end], re.match(rb'[a-z]*', rest[end + 1:]).group(0)
            if re.search(rb'\\0[0-7]', pat):
                continue  # PCRE octal escapes Python reads otherwise
            try:
                rules.append((sre.parse(pat.replace(rb'\0', rb'\x00').decode('latin1'),
                                        (re.I if b'i' in flags else 0) |
                                        (re.S if b's' in flags else 0)), b'i' in flags))
            except Exception:
                continue
    for tree, caseless in random.sample(rules, min(int(count), len(rules))):
        try:
            print(gen(tree, caseless, {}).hex())
        except Exception:
            continue


def cmd_pick(mode, port0, samples, answers, cases, expect):
    port, c, e = int(port0), {}, {}
    for hexs, ans in zip(open(samples).read().split(), open(answers).read().splitlines()):
        if ans.startswith('hard\t') and hexs and len(hexs) < 8000:
            c[str(port)] = {'mode': mode, 'hex': hexs}
            e[str(port)] = ans
            port += 1
    json.dump(c, open(cases, 'w'))
    json.dump(e, open(expect, 'w'))
    print(port - int(port0))


def cmd_serve(cases):
    def serve(port, mode, data):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        s.listen(64)

        def handle(c):
            try:
                c.settimeout(30)
                if mode == 'banner':
                    c.sendall(data)
                    c.recv(4096)
                else:
                    c.recv(4096)
                    c.sendall(data)
            except OSError:
                pass
            c.close()
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()
    for port, case in json.load(open(cases)).items():
        threading.Thread(target=serve, daemon=True,
                         args=(int(port), case['mode'], bytes.fromhex(case['hex']))).start()
    time.sleep(1200)


def cmd_compare(expect, xml):
    nm = {}
    for p in ET.parse(xml).getroot().iter('port'):
        sv = p.find('service')
        if sv is not None:
            f = [sv.get(k, '') for k in ('name', 'product', 'version', 'extrainfo',
                                         'hostname', 'ostype', 'devicetype')]
            f.append('1' if sv.get('tunnel') == 'ssl' else '0')
            f.append(','.join(c.text for c in sv.findall('cpe')))
            nm[p.get('portid')] = f
    same = diff = 0
    for port, ans in json.load(open(expect)).items():
        ours = ans.split('\t')[1:]
        if nm.get(port) == ours:
            same += 1
            continue
        diff += 1
        print('port %s: svcdb %s\n           nmap  %s' % (port, ours, nm.get(port)))
    print('%d answers identical, %d different' % (same, diff))
    return 1 if diff or not same else 0


if __name__ == '__main__':
    cmds = {'gen': cmd_gen, 'pick': cmd_pick, 'serve': cmd_serve, 'compare': cmd_compare}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))
