"""A Marionette session in Thunderbird's chrome, shared by the headless-Thunderbird suites
(tests/e2e, tests/pkcs11): run async JavaScript with the suite's helpers, and count checks."""

from marionette_driver.marionette import Marionette


class ChromeSession:
    #: Print a passing check's detail too (the PKCS#11 suite shows what each call returned).
    show_detail_on_ok = False

    def __init__(self, port, helpers_js, capabilities=None):
        self.m = Marionette(host="127.0.0.1", port=port)
        self.m.start_session(capabilities)
        self.m.set_context(self.m.CONTEXT_CHROME)
        self.helpers_js = helpers_js
        self.passed = 0
        self.failed = 0

    def js(self, body, *args, timeout_s=60):
        """Runs `body` as an async function in chrome (`args` holds the arguments); a thrown
        error becomes a RuntimeError here, with its stack."""
        script = (self.helpers_js + "const done = arguments[arguments.length - 1];\n"
                  "(async (...args) => {" + body + "})(...Array.from(arguments).slice(0, -1))"
                  ".then(done, (e) => done({error: String(e) + ' ' + (e.stack || '')}));")
        result = self.m.execute_async_script(script, script_args=list(args), script_timeout=timeout_s * 1000)
        if isinstance(result, dict) and "error" in result:
            raise RuntimeError(result["error"])
        return result

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}" + (f" ({detail})" if detail and self.show_detail_on_ok else ""))
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def step(self, name, run, *args):
        """Runs one scenario; an exception fails it without stopping the others."""
        try:
            run(*args)
        except Exception as e:  # noqa: BLE001 - any breakage is a failed check, reported with its text
            self.check(f"{name} ran to the end", False, f"{type(e).__name__}: {e}"[:2000])
