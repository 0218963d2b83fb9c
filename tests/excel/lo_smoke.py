"""Run by the system Python (python3-uno), not the venv: load a workbook in headless LibreOffice
with macros enabled, list the VBA modules and run one macro; print the result as JSON.

usage: python3 lo_smoke.py WORKBOOK MODULE MACRO
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    item = PropertyValue()
    item.Name = name
    item.Value = value
    return item


def main() -> int:
    workbook, module, macro = sys.argv[1:4]
    profile = tempfile.mkdtemp(prefix="oncosecours-lo-")
    pipe = "oncosecours" + str(os.getpid())
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = {}
    doc = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        context = None
        for _ in range(120):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.25)
        if context is None:
            print(json.dumps({"error": "LibreOffice did not start"}))
            return 1
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        doc = desktop.loadComponentFromURL(
            Path(workbook).resolve().as_uri(),
            "_blank",
            0,
            (prop("Hidden", True), prop("MacroExecutionMode", 4)),
        )
        libraries = doc.BasicLibraries
        result["libraries"] = list(libraries.getElementNames())
        lib = libraries.getByName("VBAProject")
        result["modules"] = list(lib.getElementNames())
        result["sheets"] = list(doc.Sheets.getElementNames())
        script = doc.getScriptProvider().getScript(
            f"vnd.sun.star.script:VBAProject.{module}.{macro}?language=Basic&location=document"
        )
        value = script.invoke((), (), ())
        result["value"] = value[0] if isinstance(value, tuple) else value
    except Exception as exc:  # reported to the test as JSON
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if doc is not None:
            try:
                doc.close(True)
            except Exception:
                pass
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
