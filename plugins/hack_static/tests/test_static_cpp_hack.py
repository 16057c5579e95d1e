"""Hack and C++ service code with the built-in models only: request data of handlers, log streams, SQL,
ORM models filled by setters, builders, and what the lowering keeps (try/catch, switch) or leaves out
(what follows return or throw)."""

from __future__ import annotations

import pytest

from flowscope_hack_static import tsfront
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.packs import Models, load_models
from flowscope_hack_static.sqlnames import insert_columns


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


def flows(models: Models, lang: str, **files: str) -> set[tuple[str, str]]:
    irs = [
        tsfront.lower(text.encode(), name.replace("__", "/") + (".cc" if lang == "cpp" else ".php"), lang)
        for name, text in files.items()
    ]
    return {(str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows if not f.masked}


CPP_REQ = "service://cpp-app/request"


def test_drogon_request_log_streams_and_sql(models: Models) -> None:
    src = """
void UserController::signup(const HttpRequestPtr &req, std::function<void()> &&callback) {
  LOG_DEBUG << "request " << req->path();
  auto json = req->getJsonObject();
  std::string email = (*json)["email"].asString();
  std::string page = req->getParameter("page");
  try {
    LOG_INFO << "signup from " << email;
    client->execSqlSync("INSERT INTO users (email, created) VALUES ($1, NOW())", email);
  } catch (const std::exception &e) {
    std::cerr << e.what() << page;
  }
}
"""
    got = flows(models, "cpp", users=src)
    assert got == {
        (f"{CPP_REQ}#email", "log://cpp/trantor#email"),
        (f"{CPP_REQ}#email", "postgres://default:5432/users#email"),
    }


def test_grpc_request_messages_and_nothing_after_throw(models: Models) -> None:
    src = """
Status ServiceImpl::Register(ServerContext* context, const RegisterRequest* request, RegisterResponse* reply) {
  std::string name = request->username();
  if (name.empty()) {
    throw std::runtime_error("empty");
    spdlog::info("never {}", name);
  }
  spdlog::warn("registering {}", name);
  std::cout << request->phone_number() << std::endl;
  return Status::OK;
}
"""
    got = flows(models, "cpp", svc=src)
    assert got == {
        (f"{CPP_REQ}#username", "log://cpp/spdlog#username"),
        (f"{CPP_REQ}#phone_number", "log://cpp/stdout#phone_number"),
    }


def test_drogon_orm_models_filled_by_setters(models: Models) -> None:
    model = 'const std::string Users::tableName = "users";\nvoid Users::setEmail(const std::string &p) { email_ = p; }\n'
    ctrl = """
void C::create(const HttpRequestPtr &req) {
  Mapper<Users> mp(client);
  auto body = req->getJsonObject();
  Users user;
  user.setEmail((*body)["email"].asString());
  user.setPassword(bcrypt::generateHash((*body)["password"].asString()));
  mp.insert(user);
  std::set<std::string> seen;
  seen.insert((*body)["first_name"].asString());
}
"""
    got = flows(models, "cpp", models__Users=model, controllers__C=ctrl)
    assert got == {(f"{CPP_REQ}#email", "postgres://default:5432/users#email")}  # hashed, no set write


def test_oatpp_query_macros_are_the_client_methods(models: Models) -> None:
    db = """
class UserDb : public oatpp::orm::DbClient {
public:
  QUERY(createUser,
        "INSERT INTO AppUser (username, email) VALUES (:user.username, :user.email);",
        PARAM(oatpp::Object<UserDto>, user))
};
"""
    svc = """
void UserService::createUser(const oatpp::Object<UserDto>& dto) {
  auto r = m_database->createUser(dto);
}
void Handler::handle(const std::shared_ptr<IncomingRequest>& request) {
  auto dto = request->readBodyToDto<oatpp::Object<UserDto>>(mapper);
  m_service.createUser(dto);
}
"""
    got = flows(models, "cpp", db=db, svc=svc)
    assert ("code://default/db.cc#email", "sqlite://default/AppUser#email") in got


def test_hack_superglobals_builders_mail_and_constants(models: Models) -> None:
    mutator = """<?hh
final class UserMutator {
  private Map<string, mixed> $data = Map {};
  public static function create(): this { return new UserMutator(); }
  public function setEmail(string $v): this { $this->data['email'] = $v; return $this; }
  public function save(): int { DB::insert('users', $this->data->toArray()); return 1; }
}
"""
    ctrl = """<?hh
class SignupController {
  const string TABLE = 'signups';
  public static function post(): void {
    $email = $_POST['email'];
    $page = $_POST['page'];
    UserMutator::create()->setEmail($email)->save();
    $conn->queryf('INSERT INTO '.self::TABLE.' (email, page) VALUES (%s, %s)', $email, $page);
    if ($email === '') {
      return;
      error_log($email);
    }
    $mail = new SendGrid\\Email();
    $mail->addTo($email);
    $sendgrid = new SendGrid('key');
    $sendgrid->send($mail);
    error_log(count($email));
  }
}
"""
    got = flows(models, "hack", models__UserMutator=mutator, controllers__Signup=ctrl)
    req = "service://hack-app/request#email"
    assert got == {
        (req, "mysql://default:3306/users#email"),
        (req, "mysql://appdb:3306/signups#email"),  # the example estate's built-in pack models ->queryf
        (req, "service://email/sendgrid#email"),
    }


def test_parameters_go_to_the_column_whose_value_holds_them() -> None:
    assert insert_columns("INSERT INTO log (ts, text) (SELECT NOW(), %s) LIMIT 1") == ("log", ["text"])
    assert insert_columns("INSERT INTO u (email, at, name) VALUES (%s, NOW(), %s)") == (
        "u",
        ["email", "name"],
    )
    assert insert_columns("UPDATE u SET email = ?, seen = NOW() WHERE id = ?") == ("u", ["email"])
