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


MUTATOR = """<?hh
final class UserMutator {
  private Map<string, mixed> $data = Map {};
  public static function create(): this { return new UserMutator(); }
  public function setEmail(string $value): this {
    $this->data["email"] = $value;
    return $this;
  }
  public function setNote(string $value): this {
    $this->data["note"] = $value;
    return $this;
  }
  public function save(): void {
    DB::insert("users", $this->data->toArray());
  }
}
"""


def test_a_builder_chain_reaches_its_own_class_save_and_no_namesake(models: Models) -> None:
    # UserMutator::create()->...->save() is UserMutator's save; AuditMutator's save is not in the scan,
    # so its chain resolves to nothing rather than to the one save() the scan holds
    ctrl = """<?hh
class SignupController {
  public static function post(): void {
    UserMutator::create()->setEmail($_POST['email'])->save();
    AuditMutator::create()->setNote($_POST['comment'])->save();
  }
}
"""
    assert flows(models, UserMutator=MUTATOR, SignupController=ctrl) == {
        (f"{REQ}#email", f"{DB}/users#email")
    }


def test_a_fluent_chain_on_a_local_object_fills_that_object(models: Models) -> None:
    # $mail->addTo(...)->addSubstitution(...): what the later links get goes into $mail too
    src = """<?hh
class Mailer {
  public static function notify(): void {
    foreach (DB::query("SELECT * FROM users") as $row) {
      $mail = new SendGrid\\Email();
      $mail->setFrom("noreply@example.com")
        ->setSubject("Hello")
        ->addSubstitution("%first_name%", array($row['fname']));
      $client = new SendGrid("key");
      $client->send($mail);
    }
  }
}
"""
    assert flows(models, Mailer=src) == {
        ("code://default/Mailer.php#fname", "service://email/sendgrid#fname")
    }


def test_request_helpers_named_by_their_field_are_sources(models: Models) -> None:
    # list($v, $err) = getPOSTString('uname'): the request's uname (a username) in both variables,
    # passed to a helper of another file that inserts it
    store = """<?hh
class Accounts {
  public static function createUser(string $username, string $phone): void {
    $row = Map {'username' => $username, 'phone_number' => $phone};
    DB::insert('users', $row->toArray());
  }
}
"""
    ctrl = """<?hh
class SignupController {
  public static function post(): void {
    list($username, $error) = getPOSTString('uname');
    $phone = filter_input(INPUT_POST, 'phone');
    $page = getGETString('page');
    Accounts::createUser($username, $phone);
    error_log("signup page " . $page);
  }
}
"""
    got = {f for f in flows(models, Accounts=store, SignupController=ctrl) if f[0].startswith(REQ)}
    assert got == {(f"{REQ}#uname", f"{DB}/users#username"), (f"{REQ}#phone", f"{DB}/users#phone_number")}


def test_a_bare_request_id_stored_as_a_things_id_is_no_personal_data(models: Models) -> None:
    src = """<?hh
class FeedbackController {
  public static function post(): void {
    $data = Map {'event_id' => $_POST['id'], 'user_id' => $_POST['uid']};
    DB::insert('feedback', $data->toArray());
  }
}
"""
    assert flows(models, FeedbackController=src) == {(f"{REQ}#uid", f"{DB}/feedback#user_id")}


def test_short_forms_php_forms_use() -> None:
    from flowscope_hack_static.classify import classify

    assert classify("fname") == "user.name.first"
    assert classify("lname") == "user.name.last"
    assert classify("uname") == "user.account.username"
    assert classify("special_needs") == "user.health_and_medical"
    assert classify("fname_template") is None


def test_php_open_tag_comments_and_attributes_parse() -> None:
    # <?php, '# comment' and #[Attribute] each broke the Hack grammar: the class's methods were lost
    src = """<?php
namespace App;

#[Route('/join')]
class JoinController {  # a PHP comment
  public function join(): void {
    error_log($_POST['email']);
  }
}
"""
    ir, _, _ = lower_file("hack", src.encode(), src, True, "JoinController.php")
    assert ir is not None and not ir.error_regions
    assert [f.name for f in ir.functions] == ["JoinController.join"]


def test_pdo_prepared_statements_positional_bound_and_named(models: Models) -> None:
    src = """<?php
class Signup {
  public function add(\\PDO $pdo): void {
    $stmt = $pdo->prepare('INSERT INTO signups (phone, city) VALUES (?, ?)');
    $stmt->execute([$_POST['phone'], $_POST['city']]);
    $upd = $pdo->prepare('UPDATE profiles SET display_name = :shown WHERE id = :id');
    $upd->bindValue(':shown', $_POST['full_name']);
    $upd->bindValue(':id', $_POST['user_id']);
    $upd->execute();
    $pdo->prepare('INSERT INTO notes (email) VALUES (:email)')->execute([':email' => $_POST['email']]);
    $q = $pdo->prepare('SELECT * FROM members WHERE email = ?');
    $q->execute([$_POST['email']]);
  }
}
"""
    assert flows(models, Signup=src) == {
        (f"{REQ}#phone", f"{DB}/signups#phone"),
        (f"{REQ}#city", f"{DB}/signups#city"),
        (f"{REQ}#full_name", f"{DB}/profiles#display_name"),  # user_id is only in WHERE
        (f"{REQ}#email", f"{DB}/notes#email"),
    }


def test_doctrine_persist_of_a_declared_entity_and_symfony_request_bags(models: Models) -> None:
    entity = """<?php
namespace App\\Entity;

#[ORM\\Entity]
#[ORM\\Table(name: 'members')]
class Member {
  private ?string $email = null;
  public function setEmail(string $email): self {
    $this->email = $email;
    return $this;
  }
}

class Report {
  public function setEmail(string $email): void {}
}
"""
    ctrl = """<?php
class JoinController {
  public function join(Request $request, EntityManagerInterface $em): void {
    $member = new Member();
    $member->setEmail($request->request->get('email'));
    $em->persist($member);
    $report = new Report();
    $report->setEmail($request->query->get('email'));
    $em->persist($report);
  }
}
"""
    assert flows(models, Entity__Member=entity, JoinController=ctrl) == {
        (f"{REQ}#email", f"{DB}/members#email")
    }


def test_php_loggers_files_analytics_and_guzzle(models: Models) -> None:
    src = """<?php
class Welcome {
  public function send(): void {
    $email = $_POST['email'];
    $this->logger->info('signup', ['email' => $email]);
    Log::warning('signup of '.$email);
    file_put_contents('/var/log/signups.log', $email, FILE_APPEND);
    Segment::identify(['userId' => 7, 'traits' => ['email' => $email]]);
    $mp = Mixpanel::getInstance('token');
    $mp->track('signup', ['mail' => $email]);
    $http = new GuzzleHttp\\Client();
    $http->post('https://crm.example.com/leads', ['json' => ['email' => $email]]);
    $this->logger->info('page '.$_GET['page']);
  }
}
"""
    got = {t for s, t in flows(models, Welcome=src) if s == f"{REQ}#email"}
    assert got == {
        "log://hack/app#email",
        "file//var/log/signups.log#email",
        "https://api.mixpanel.com//track#mail",
        "https://api.segment.io//v1/identify#traits",
        "https://crm.example.com//leads#json",
    }


def test_sql_built_with_sprintf_names_its_table(models: Models) -> None:
    src = """<?hh
class Legacy {
  public static async function add(AsyncMysqlConnection $conn): Awaitable<void> {
    $sql = sprintf("INSERT INTO members (email) VALUES ('%s')", $_POST['email']);
    await $conn->query($sql);
    await $conn->query(Str\\format("SELECT * FROM members WHERE phone = '%s'", $_POST['phone']));
    $city = $_POST['city'];
    await $conn->query("INSERT INTO visits (city) VALUES ('$city')");
  }
}
"""
    assert flows(models, Legacy=src) == {
        (f"{REQ}#email", f"{DB}/members#email"),
        (f"{REQ}#city", f"{DB}/visits#city"),
    }
