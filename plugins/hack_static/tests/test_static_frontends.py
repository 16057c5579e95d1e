from __future__ import annotations

from flowscope_hack_static import pyfront, tsfront
from flowscope_hack_static.ir import Call, DictLit, Lit, Sub, Var

HACK = b"""<?hh
final class PhotoUploadController {
  const bool DEBUG_MODE = false;
  public async function genUpload(): Awaitable<void> {
    $photo_data = $this->getRequestBody();
    await $db->insert('photos', dict['location' => $photo_data['location']]);
    if (self::DEBUG_MODE) { Logger::log('debug', dict['x' => $photo_data]); }
  }
}
"""

CPP_WITH_MACRO = b"""#define CAT "photo_uploads"
namespace photos {
void Logger::logUpload(const PhotoUpload& upload) {
  auto row = folly::dynamic::object("location", upload.location);
  scribe_->log(CAT, row);
  WEIRD_MACRO(x) {{
}
}
"""


def test_hack_lowers_methods_dicts_and_guards() -> None:
    ir = tsfront.lower(HACK, "a.php", "hack")
    assert ir.constants == {"DEBUG_MODE": False}
    assert ir.error_regions == []
    [fn] = ir.functions
    assert fn.name == "PhotoUploadController.genUpload"
    insert = fn.body[1].value
    assert isinstance(insert, Call) and insert.callee == "db->insert"
    assert insert.args[0] == Lit("photos")
    assert insert.args[1] == DictLit((("location", Sub(Var("photo_data"), "location")),))
    guarded = [s for s in fn.body if s.guards]
    assert guarded and guarded[0].guards == ("self::DEBUG_MODE",)


def test_cpp_keeps_the_function_whose_header_a_macro_broke() -> None:
    ir = tsfront.lower(CPP_WITH_MACRO, "a.cpp", "cpp")
    assert ir.error_regions, "the macro leaves an error region"
    fn = next(f for f in ir.functions if f.name == "Logger.logUpload")
    assert fn.params == (("upload", "PhotoUpload"),)
    row = fn.body[0]
    assert row.target == Var("row") and row.value == DictLit((("location", Sub(Var("upload"), "location")),))
    assert ir.constants["CAT"] == "photo_uploads"


def test_python_resolves_import_aliases_and_positions() -> None:
    src = "import requests as rq\nfrom flask import request\n\ndef f():\n    x = request.form['a']\n    rq.post('http://h/p', json={'a': x})\n"
    ir = pyfront.lower(src, "a.py")
    [fn] = ir.functions
    assert fn.body[0].line == 5 and fn.body[0].value == Sub(Var("request.form"), "a")
    call = fn.body[1].value
    assert isinstance(call, Call) and call.callee == "requests.post"
    assert call.kwargs[0][0] == "json"
