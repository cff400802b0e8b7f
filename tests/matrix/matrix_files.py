"""What the three matrix generators share: writing the toolbox (`<engine>.yaml`) and the cases
(`<engine>.cases.json`) they generate, and the JSON text the toolbox binds for arrays and maps."""

import collections
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def yaml_str(s):
    """A YAML scalar for any text: JSON's string syntax, which YAML reads."""
    return json.dumps(s, ensure_ascii=False)


def json_text(value):
    """The JSON text the toolbox binds for an array or a map (serde_json's compact form)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_toolbox(engine, header, tools, extra_tools):
    """`<engine>.yaml`: the header (comments and the source document), one `<engine>-sql` tool
    per generated tool, then the extra tools (client SQL)."""
    with open(os.path.join(HERE, f"{engine}.yaml"), "w") as f:
        f.write(header)
        for t in tools:
            f.write("---\nkind: tool\n")
            f.write(f"name: {t['name']}\ntype: {engine}-sql\nsource: matrix\n")
            f.write(f"description: {yaml_str(t['description'])}\n")
            if t["parameters"]:
                f.write("parameters:\n")
                for p in t["parameters"]:
                    f.write(f"  - name: {p['name']}\n    type: {p['type']}\n")
                    f.write(f"    description: {yaml_str(p['description'])}\n")
                    if "items" in p:
                        i = p["items"]
                        f.write(f"    items: {{name: {i['name']}, type: {i['type']}, description: {yaml_str(i['description'])}}}\n")
            f.write(f"statement: {yaml_str(t['statement'])}\n")
        f.write(extra_tools)


def write_cases(engine, cases):
    """`<engine>.cases.json`, and a line saying how many cases of each kind."""
    with open(os.path.join(HERE, f"{engine}.cases.json"), "w") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)
        f.write("\n")
    counts = collections.Counter(c["kind"] for c in cases)
    print(", ".join(f"{n} {kind} cases" for kind, n in counts.items()))
