"""General rules for Hack (and PHP-style Hack) service code, each from a small self-written snippet, lowered
the way a scan lowers a file (``frontends``: PHP-style arrays rewritten where the Hack grammar fails)."""

from __future__ import annotations

import pytest

from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.frontends import lower_file
from flowscope_hack_static.hackarrays import php_arrays
from flowscope_hack_static.packs import Models, load_models

REQ = "service://hack-app/request"
DB = "mysql://default:3306"


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


def flows(models: Models, **files: str) -> set[tuple[str, str]]:
    irs = []
    for name, text in files.items():
        data = text.encode()
        ir, problem, _ = lower_file("hack", data, text, True, name.replace("__", "/") + ".php")
        assert ir is not None, problem
        irs.append(ir)
    return {(str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows if not f.masked}


def test_php_arrays_become_hack_collections_with_lines_kept() -> None:
    src = b"""<?hh
$p = new A(['a' => 1, 'b' => [1, 2], 'c' => array('x' => $y[1])], $z['q']);
return ['k' => f()['z']];  // [ in a comment, "[" in a string
"""
    out = php_arrays(src)
    assert out == (
        b"""<?hh
$p = new A(dict['a' => 1, 'b' => vec[1, 2], 'c' => dict[ 'x' => $y[1]]], $z['q']);
return dict['k' => f()['z']];  // [ in a comment, "[" in a string
"""
    )
    assert php_arrays(b"<?hh f([1, 2);") == b"<?hh f([1, 2);"  # unbalanced: left alone


def test_a_php_array_does_not_cost_the_class_its_methods(models: Models) -> None:
    # one array('k' => v) used to be an ERROR region that took the whole class, so post() was never seen
    src = """<?hh
class SignupController extends BaseController {
  public static function get(): void {
    $client = new Provider(array('clientId' => Config::get('X')['id']));
  }

  public static function post(): void {
    $email = $_POST['email'];
    DB::insert('users', array('email' => $email, 'created' => time()));
  }
}
"""
    data = src.encode()
    ir, _, _ = lower_file("hack", data, src, True, "SignupController.php")
    assert ir is not None and not ir.error_regions
    assert {f.name for f in ir.functions} == {"SignupController.get", "SignupController.post"}
    assert flows(models, SignupController=src) == {(f"{REQ}#email", f"{DB}/users#email")}


def test_map_and_shape_literals_keep_their_keys_through_to_array(models: Models) -> None:
    # the column is the collection's key (phone_number), not the variable's name (phone)
    src = """<?hh
class UserStore {
  public static function add(string $phone, string $email): void {
    $row = Map {'phone_number' => $phone, 'member_status' => 0};
    DB::insert('users', $row->toArray());
    $s = shape('contact' => $email);
    DB::insert('profiles', $s);
  }
}
"""
    assert flows(models, UserStore=src) == {
        ("code://default/UserStore.php#phone", f"{DB}/users#phone_number"),
        ("code://default/UserStore.php#email", f"{DB}/profiles#contact"),
    }
