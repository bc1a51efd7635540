#!/usr/bin/env python3
"""depgraph.py [DIR] - print the file-level dependency graph of a C module
directory (default agent/) and exit 1 if it has a cycle.

A module is a pair X.c/X.h; its functions are prefixed X_ (the project's
naming rule). X depends on Y when X.c or X.h calls a function or names a
macro/type declared in Y.h, or includes Y.h. main() files (no header of their
own) are roots: they may depend on anything and nothing may depend on them.
Function pointers handed over at run time (handlers, pool callbacks) are not
dependencies: that is how a lower module calls up without knowing who."""
import os
import re
import sys


def strip(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


C_WORDS = {'void', 'int', 'char', 'bool', 'long', 'unsigned', 'const', 'struct', 'enum',
           'static', 'extern', 'typedef', 'return', 'sizeof', 'if', 'while', 'for'}


def declared(header):
    t = strip(open(header, encoding='utf-8').read())
    names = set(re.findall(r'(?m)^[a-z][^(;{}]*?\b(\w+)\s*\(', t))
    names |= set(re.findall(r'\b(?:struct|enum)\s+(\w+)\s*\{', t))
    names |= set(re.findall(r'#define\s+(\w+)', t))
    names |= set(re.findall(r'typedef[^;]*\b(\w+)\s*;', t))
    names |= set(re.findall(r'extern\s+[\w ]+?\b(\w+)\s*;', t))
    for body in re.findall(r'\benum\s+\w*\s*\{([^}]*)\}', t):
        names |= set(re.findall(r'\b([A-Z][A-Z0-9_]+)\b', body))
    names |= set(re.findall(r'typedef[^;]*\(\s*\*\s*(\w+)\s*\)', t))
    return {n for n in names if not n.endswith('_H') and n not in C_WORDS}


def graph(top):
    mods = sorted(f[:-2] for f in os.listdir(top) if f.endswith('.h'))
    decl = {m: declared(os.path.join(top, m + '.h')) for m in mods}
    owner = {}
    for m in mods:
        for n in decl[m]:
            owner.setdefault(n, m)
    nodes = sorted(f[:-2] for f in os.listdir(top) if f.endswith('.c'))
    edges = {}
    for n in nodes:
        deps = set()
        for ext in ('.c', '.h'):
            p = os.path.join(top, n + ext)
            if not os.path.exists(p):
                continue
            t = strip(open(p, encoding='utf-8').read())
            deps |= {i for i in re.findall(r'#include\s+"(\w+)\.h"', open(p).read())
                     if i in mods}
            for ident in set(re.findall(r'\b[A-Za-z_]\w*\b', t)):
                if ident in owner:
                    deps.add(owner[ident])
        deps.discard(n)
        edges[n] = sorted(deps)
    return mods, edges


def cycles(edges):
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for d in edges.get(n, []):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d in edges and not state.get(d):
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if not state.get(n):
            visit(n)
    return found


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else 'agent'
    mods, edges = graph(top)
    rc = 0
    for n in sorted(edges):
        print('%-10s -> %s' % (n, ' '.join(edges[n]) or '-'))
    for n in sorted(edges):
        if n not in mods and any(n in d for d in edges.values()):
            print('main file %s is depended on' % n)
            rc = 1
    for c in cycles(edges):
        print('cycle: ' + ' -> '.join(c))
        rc = 1
    print('no cycle' if rc == 0 else 'the graph has a cycle')
    return rc


if __name__ == '__main__':
    sys.exit(main())
