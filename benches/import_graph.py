#!/usr/bin/env python3
"""The import graph of src/ (one node a module file) and its circles.

    python3 benches/import_graph.py [--edges] [--stage] [--check]

Every `crate::…`, `super::…` and `self::…` path in a file (in `use` lines and inline) is
resolved to the module file it names (the longest prefix that is a module). Prints each
circle (strongly connected component of more than one module) with the edges inside it;
with --stage, also every edge that goes against the pipeline's order of stages
(DESIGN.md: source → decode → tcp → tls → http → ws → model → export/tui), and every
edge by which a reader of the model (the TUI, the exporters) reaches past it into a
stage. With --check, exits with status 1 when there is any of these (CI runs it).
Test modules (`#[cfg(test)] mod tests` to the end of a file) and comments are left out.
"""
import os
import re
import sys
from collections import defaultdict

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# The order of stages: an edge from a later stage to an earlier one is fine (downstream
# uses upstream); one from an earlier to a later stage reaches downstream.
STAGES = ["rules", "source", "decode", "tcp", "tls", "http", "ws", "model", "analysis",
          "pipeline", "reread", "export", "tui", "loader", "command", "main"]

# The readers of the model and what, besides themselves, they may import: the model, the
# analyses computed from it and the rules' sentences; the TUI also reads connections
# again from the file (its decode jobs, through `reread`).
READERS = {"export": {"model", "analysis", "rules"},
           "tui": {"model", "analysis", "rules", "reread"}}


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1] if parts[-1] != "main" else ["main"]
    return tuple(parts)


def files():
    for root, _, names in os.walk(SRC):
        for n in names:
            if n.endswith(".rs"):
                yield os.path.join(root, n)


def code_without_tests(text):
    """The code of a file without its test module and without comments (doc links
    are not imports)."""
    m = re.search(r"#\[cfg\(test\)\]\s*mod tests", text)
    text = text[: m.start()] if m else text
    return "\n".join(re.sub(r"//.*", "", line) for line in text.splitlines())


def components(graph, nodes):
    """Strongly connected components (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    modules = {module_of(f): f for f in files()}
    known = set(modules)
    edges = defaultdict(set)
    for mod, path in modules.items():
        text = code_without_tests(open(path, encoding="utf-8").read())
        # Expand `use x::{a, b::c}` groups one level, enough for this code base.
        paths = []
        for m in re.finditer(r"\b(crate|super|self)((?:::\w+)*)(::\{([^}]*)\})?", text):
            head = m.group(1)
            base = [p for p in m.group(2).split("::") if p]
            if m.group(4):
                for item in m.group(4).split(","):
                    item = item.strip().split(" as ")[0]
                    if item:
                        paths.append((head, base + item.split("::")))
            else:
                paths.append((head, base))
        is_dir_module = os.path.basename(path) in ("mod.rs", "lib.rs")
        # Paths that start with a child module's name (`tally::Tally` in analysis/mod.rs).
        for m in re.finditer(r"(?<![:\w])(\w+)((?:::\w+)*)(::\{([^}]*)\})?", text):
            if mod + (m.group(1),) in known:
                paths.append(("self", [m.group(1)] + [p for p in m.group(2).split("::") if p]))
        for head, parts in paths:
            if head == "crate":
                start = []
            elif head == "super":
                start = list(mod[:-1]) if not is_dir_module else list(mod[:-1])
                # `super` of a file module a/b.rs is a; of a/mod.rs it is a's parent.
                start = list(mod[:-1])
                while parts and parts[0] == "super":
                    start = start[:-1]
                    parts = parts[1:]
            else:  # self
                start = list(mod) if is_dir_module else list(mod)
            full = start + parts
            target = None
            for n in range(len(full), 0, -1):
                if tuple(full[:n]) in known:
                    target = tuple(full[:n])
                    break
            if target is None or target == mod:
                continue
            # A parent module re-exporting its children is not a use of them.
            if target[: len(mod)] == mod and not is_dir_module and len(mod) > 0:
                pass
            edges[mod].add(target)
    # A module using its own children is how Rust composes a module (it declares and
    # re-exports them): not counted. A child using its parent's items is.
    edges = {m: {t for t in ts if t[: len(m)] != m} for m, ts in edges.items()}
    name = lambda m: "::".join(m) or "crate"

    def report(title, graph, nodes):
        circles = [sorted(c) for c in components(graph, nodes) if len(c) > 1]
        count = sum(len(e) for e in graph.values())
        print(f"{title}: {len(nodes)} modules, {count} edges, {len(circles)} circles")
        for c in circles:
            members = set(c)
            print("  circle: " + ", ".join(name(m) for m in c))
            for m in c:
                for t in sorted(graph.get(m, set()) & members):
                    print(f"      {name(m)} -> {name(t)}")

    report("files", edges, sorted(known))
    # The same between top-level modules (stages): a circle there is a stage that
    # reaches back into one that uses it.
    top = defaultdict(set)
    for m, ts in edges.items():
        for t in ts:
            if m[:1] != t[:1] and m and t:
                top[m[:1]].add(t[:1])
    report("top-level modules", top, sorted({m[:1] for m in known if m}))
    problems = sum(1 for c in components(edges, sorted(known)) if len(c) > 1)
    problems += sum(1 for c in components(top, sorted({m[:1] for m in known if m})) if len(c) > 1)
    if "--stage" in sys.argv or "--check" in sys.argv:
        stage = lambda m: STAGES.index(m[0]) if m and m[0] in STAGES else None
        print("edges that reach downstream (an earlier stage using a later one):")
        for m in sorted(edges):
            for t in sorted(edges[m]):
                a, b = stage(m), stage(t)
                if a is not None and b is not None and a < b:
                    print(f"    {name(m)} -> {name(t)}")
                    problems += 1
        print("edges by which a reader of the model reaches past it:")
        for m in sorted(edges):
            allowed = READERS.get(m[0]) if m else None
            if allowed is None:
                continue
            for t in sorted(edges[m]):
                if t and t[0] != m[0] and t[0] not in allowed:
                    print(f"    {name(m)} -> {name(t)}")
                    problems += 1
    if "--check" in sys.argv and problems:
        print(f"{problems} problems")
        sys.exit(1)
    if "--edges" in sys.argv:
        for m in sorted(edges):
            print(f"{name(m)}: " + ", ".join(name(t) for t in sorted(edges[m])))


if __name__ == "__main__":
    main()
