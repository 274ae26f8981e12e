#!/usr/bin/env python3
"""Inspects Thunderbird's own S/MIME test corpus with the smime-companion CLI and checks that every
verdict agrees with what Thunderbird's test (mailnews/mime/test/unit/test_smime_decrypt.js)
asserts. The corpus is not part of this repository (it lives in mozilla/releases-comm-central,
mailnews/test/data/); point this script at a copy of that folder:

    tests/corpus/check-thunderbird.py BINARY DATA_DIR [--at TIME]

DATA_DIR holds smime/, smime-interop/ and smime-manual/. The expectations, restated from that test
file, are in thunderbird-expectations.json beside this script. Thunderbird's fields map to ours:
  enc       -> encryption.state == "decrypted" (else anything but "decrypted")
  sig       -> a signature decides the verdict (signature.state is not "none")
  sig_good  -> signature.state == "valid" (else not "valid")
  dave      -> the deciding signer is dave@example.com (else alice@example.com)
  check_text-> the shown (verified or decrypted) content contains the text
"""
import json, os, subprocess, sys, tempfile

def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, data = sys.argv[1], sys.argv[2]
    at = sys.argv[sys.argv.index("--at") + 1] if "--at" in sys.argv else None
    here = os.path.dirname(os.path.abspath(__file__))
    expectations = json.load(open(os.path.join(here, "thunderbird-expectations.json")))
    smime = os.path.join(data, "smime")
    keys = [os.path.join(smime, n) for n in ("Alice.p12", "Bob.p12", "Dave.p12")]
    keys += [os.path.join(data, "smime-interop", n) for n in ("Fran.p12", "Fran-ec.p12")]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as home:
        pw = os.path.join(home, "password")
        with open(pw, "w") as f:
            f.write("nss")
        for m in expectations:
            path = os.path.normpath(os.path.join(smime, m["file"]))
            content = os.path.join(home, "content")
            cmd = [binary, "inspect", path, "--json", "--ca", os.path.join(smime, "TestCA.pem"), "--content", content]
            for k in keys:
                cmd += ["--p12", k]
            cmd += ["--password-file", pw]
            if at:
                cmd += ["--at", at]
            env = dict(os.environ, SMIME_COMPANION_HOME=home, SMIME_COMPANION_SYSTEM_CONFIG=os.path.join(home, "none"))
            if os.path.exists(content):
                os.remove(content)
            out = subprocess.run(cmd, capture_output=True, env=env)
            problems = []
            if out.returncode != 0:
                problems.append(f"exit {out.returncode}: {out.stderr.decode(errors='replace').strip()}")
            else:
                v = json.loads(out.stdout)
                sig, enc = v["signature"], v["encryption"]
                if m["enc"] != (enc["state"] == "decrypted"):
                    problems.append(f"enc={m['enc']} but encryption.state={enc['state']}")
                if m["sig"] and sig["state"] == "none":
                    problems.append("Thunderbird reports a signature, we say none")
                if not m["sig"] and sig["state"] not in ("none",):
                    problems.append(f"Thunderbird reports no signature, we say {sig['state']}")
                if m["sig"] and m["sig_good"] != (sig["state"] == "valid"):
                    problems.append(f"sig_good={m['sig_good']} but signature.state={sig['state']}")
                if m["sig"] and sig.get("signer"):
                    want = "dave@example.com" if m["dave"] else "alice@example.com"
                    if want not in [e.lower() for e in sig["signer"]["emails"]]:
                        problems.append(f"signer {sig['signer']['emails']} is not {want}")
                if m["check_text"]:
                    shown = open(content, "rb").read().decode(errors="replace") if os.path.exists(content) else ""
                    if m["check_text"] not in shown:
                        problems.append("shown content lacks the expected text")
            if problems:
                failed += 1
                print(f"FAIL {m['file']}: {'; '.join(problems)}")
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
