"""C++ service code the built-in models were not written beside: one small self-written snippet per rule
(libpqxx, sqlite3, MySQL Connector, Drogon, oatpp, gRPC, spdlog), each naming the general rule it checks."""

from __future__ import annotations

import pytest

from flowscope_hack_static import tsfront
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.oatppendpoints import endpoints
from flowscope_hack_static.packs import Models, load_models

REQ = "service://cpp-app/request"


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


def flows(models: Models, **files: str) -> set[tuple[str, str]]:
    irs = [tsfront.lower(text.encode(), f"{name}.cc", "cpp") for name, text in files.items()]
    return {(str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows if not f.masked}


def test_sql_held_in_a_local_string_names_its_table_and_reads_make_no_flow(models: Models) -> None:
    """``std::string sql = "INSERT ..."; txn.exec_params(sql, a, b)``: the statement a local holds is the
    one run, in a loop or under a guard too, so its table resolves and a SELECT stays a read."""
    src = """
void add_user(const std::string &username, const std::string &phone) {
  pqxx::work txn(conn);
  std::string readData = "SELECT id FROM users WHERE username = $1";
  pqxx::result res = txn.exec_params(readData, username);
  if (res.empty()) {
    std::string insertData = "INSERT INTO users(username, phone) VALUES ($1, $2)";
    txn.exec_params(insertData, username, phone);
  }
  for (int i = 0; i < 2; i++) {
    std::string q = "UPDATE contacts SET phone = $1 WHERE owner = $2";
    txn.exec_params(q, phone, i);
  }
  txn.commit();
}
"""
    assert flows(models, pg=src) == {
        ("code://default/pg.cc#username", "postgres://default:5432/users#username"),
        ("code://default/pg.cc#phone", "postgres://default:5432/users#phone"),
        ("code://default/pg.cc#phone", "postgres://default:5432/contacts#phone"),
    }


def test_const_reference_and_pointer_locals_are_variables(models: Models) -> None:
    """``const std::string& email = ...;`` and ``User* u = ...;`` declare the name, as ``std::string email``."""
    src = """
void Account::create(const StringMap& formData) {
  const std::string& email = Util::trim(formData.at("email"));
  Model::Account acct;
  acct.setEmail(email);
  spdlog::info("new account {}", email);
}
"""
    assert flows(models, acct=src) == {("code://default/acct.cc#email", "log://cpp/spdlog#email")}


def test_prepared_statements_bind_their_parameters_in_order(models: Models) -> None:
    """MySQL Connector/C++, SQLiteCpp, sqlite3's C API, Qt SQL and a wrapper's ``Bind``: each bound value
    goes to the column of the statement's next (or named) parameter; a ``WHERE`` parameter and a SELECT's
    are reads, and a setter on a value holding no SQL stays a setter."""
    src = """
void save(sql::Connection *con, sqlite3 *db, Db &mydb, const std::string &email, const std::string &phone) {
  std::unique_ptr<sql::PreparedStatement> p(con->prepareStatement("INSERT INTO users (email, phone) VALUES (?, ?)"));
  p->setString(1, email);
  p->setString(2, phone);
  p->executeUpdate();
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "UPDATE contacts SET phone = ? WHERE email = ?", -1, &st, NULL);
  sqlite3_bind_text(st, 1, phone.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, email.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_step(st);
  std::string sql = "SELECT id FROM people WHERE email = ?";
  Statement* s = mydb.Statement(sql);
  s->Bind(0, email);
  QSqlQuery q;
  q.prepare("INSERT INTO audit (who, note) VALUES (:who, :note)");
  q.bindValue(":note", phone);
  q.exec();
  Model::User u;
  u.setEmail(email);
}
"""
    assert flows(models, db=src) == {
        ("code://default/db.cc#email", "mysql://default:3306/users#email"),
        ("code://default/db.cc#phone", "mysql://default:3306/users#phone"),
        ("code://default/db.cc#phone", "sqlite://default/contacts#phone"),
        ("code://default/db.cc#phone", "sqlite://default/audit#note"),
    }


def test_crow_request_body_parsed_then_read_by_key(models: Models) -> None:
    """``crow::json::load(req.body)["username"]`` is the request's ``username`` (its body is the request's
    content, read by key next), not the whole body."""
    src = """
crow::response Register::regist(const crow::request &req) {
  crow::json::rvalue data = crow::json::load(req.body);
  std::string username = data["username"].s();
  SPDLOG_LOGGER_INFO(logger, "register {}", username);
  CROW_LOG_INFO << req.body;
  return crow::response(200);
}
"""
    assert flows(models, reg=src) == {
        ("service://cpp-app/request#username", "log://cpp/spdlog#username"),
        ("service://cpp-app/request#body", "log://cpp/crow#body"),
    }


def test_sqlpp11_insert_and_update_assignments(models: Models) -> None:
    """sqlpp11's ``insert_into(t).set(t.col = x)``: the table is the struct the statement names, each
    assignment a column; a ``select ... where`` is a read."""
    src = """
void Store::save(const std::string &username, const std::string &email) {
  Users_::Users users;
  db(insert_into(users).set(users.username = username, users.email = email));
  db(update(users).set(users.email = email).where(users.username == username));
  auto rows = db(select(users.email).from(users).where(users.username == username));
}
"""
    assert flows(models, store=src) == {
        ("code://default/store.cc#username", "unknown://default/Users#username"),
        ("code://default/store.cc#email", "unknown://default/Users#email"),
    }


def test_dto_parameter_passed_whole_to_a_declared_query(models: Models) -> None:
    """A parameter typed with a class (``const oatpp::Object<UserDto>& dto``) handed whole to a function
    that writes its fields (an oatpp ``QUERY``, prepared or not): the flow is the caller's too, named by
    the caller's code. JSON values and
    framework plumbing (``Json::Value``, ``...Callback``, ``...Context``) are no record."""
    db = """
class UserDb : public oatpp::orm::DbClient {
  QUERY(createUser, "INSERT INTO AppUser (email, role) VALUES (:user.email, :user.role);",
        PREPARE(true), // a prepared statement
        PARAM(oatpp::Object<UserDto>, user))
};
"""
    svc = """
oatpp::Object<UserDto> UserService::createUser(const oatpp::Object<UserDto>& dto) {
  auto dbResult = m_database->createUser(dto);
  return dto;
}
void UserService::note(const Json::Value& payload, ServerContext* context) {
  m_database->createUser(payload);
}
"""
    got = flows(models, db=db, svc=svc)
    assert ("code://default/svc.cc#email", "sqlite://default/AppUser#email") in got
    assert {src for src, _ in got if src.startswith("code://default/svc.cc")} == {
        "code://default/svc.cc#email"
    }


def test_form_fields_and_named_transformations(models: Models) -> None:
    """A map's ``at("form-post")`` is an HTML form's field (``post``: what a person wrote), and a function
    named for what it makes of its argument (``Util::getTrimmed(s)``) passes it on, unlike a lookup
    (``getUserStats(name)``). Message ``sender``/``receiver`` fields refer to people."""
    src = """
void Comment::create(const StringMap& formData, const HttpRequestPtr &req) {
  const std::string& post = Util::getTrimmed(formData.at("form-post"));
  auto stats = getUserStats(post);
  spdlog::info("comment {} {}", post, stats);
  auto json = req->getJsonObject();
  std::string receiver = (*json)["receiver"].asString();
  LOG_INFO << receiver;
}
"""
    assert flows(models, c=src) == {
        ("code://default/c.cc#post", "log://cpp/spdlog#post"),
        ("service://cpp-app/request#receiver", "log://cpp/trantor#receiver"),
    }


def test_lambda_handlers_are_functions_with_their_parameters(models: Models) -> None:
    """Crow's routes and Drogon's ``registerHandler`` take lambdas: a lambda's body is analyzed with its own
    parameters (a ``crow::request``, an ``HttpRequestPtr``), named after the function holding it."""
    src = """
int main() {
  CROW_ROUTE(app, "/signup").methods("POST"_method)([&db](const crow::request& req) {
    auto x = crow::json::load(req.body);
    CROW_LOG_INFO << "signup " << x["email"].s();
    return crow::response(200);
  });
  app().registerHandler("/p", [](const HttpRequestPtr &req, std::function<void(const HttpResponsePtr &)> &&cb) {
    LOG_INFO << req->getParameter("phone");
  });
  auto noop = [&] { return 1; };
}
"""
    irs = [tsfront.lower(src.encode(), "main.cc", "cpp")]
    got = {(f.function, str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows}
    assert got == {
        ("main.lambda3", "service://cpp-app/request#email", "log://cpp/crow#email"),
        ("main.lambda8", "service://cpp-app/request#phone", "log://cpp/trantor#phone"),
    }


def test_pistache_body_loggers_and_httplib(models: Models) -> None:
    """Pistache's ``request.body()`` / ``request.query()`` hold what the client sent, read by key next;
    ``logger.info`` (spdlog by value), loguru's ``LOG_F``, ``fmt::print`` log; cpp-httplib's ``cli.Post``
    sends to its path."""
    src = """
void Api::create(const Rest::Request& request, Http::ResponseWriter response) {
  auto body = nlohmann::json::parse(request.body());
  std::string email = body["email"];
  auto phone = request.query().get("phone");
  logger.info("create {}", email);
  LOG_F(INFO, "phone %s", phone.c_str());
  fmt::print("page {}", request.query().get("page"));
  httplib::Client cli("https://crm.example.com");
  cli.Post("/contacts", email, "text/plain");
}
"""
    assert flows(models, api=src) == {
        ("service://cpp-app/request#email", "log://cpp/spdlog#email"),
        ("service://cpp-app/request#phone", "log://cpp/loguru#phone"),
        ("service://cpp-app/request#email", "http://default//contacts#email"),
    }


def test_oatpp_endpoints_are_handlers_through_service_to_query(models: Models) -> None:
    """oatpp's ``ENDPOINT(..., BODY_DTO(Object<UserDto>, dto), QUERY(String, email))`` is a handler whose
    body DTO is the request's content and whose query parameters are its own; ``m_userService.createUser``
    is ``UserService``'s method and ``m_database->createUser`` ``UserDb``'s although three classes have one of
    that name (the receiver's name says which), so the request's fields reach the table."""
    ctrl = """
class UserController : public oatpp::web::server::api::ApiController {
  ENDPOINT_INFO(createUser) { info->summary = "Create"; }
  ENDPOINT("POST", "users", createUser,
           BODY_DTO(Object<UserDto>, userDto))
  {
    return createDtoResponse(Status::CODE_200, m_userService.createUser(userDto));
  }
  ENDPOINT("GET", "users/find", findUser, QUERY(String, email), HEADER(String, agent, "User-Agent"))
  {
    OATPP_LOGI("UserController", "find %s", email->c_str());
    return createDtoResponse(Status::CODE_200, m_userService.find(email));
  }
};
"""
    svc = """
oatpp::Object<UserDto> UserService::createUser(const oatpp::Object<UserDto>& dto) {
  auto dbResult = m_database->createUser(dto);
  return dto;
}
"""
    db = """
class UserDb : public oatpp::orm::DbClient {
  QUERY(createUser, "INSERT INTO AppUser (email) VALUES (:user.email);", PARAM(oatpp::Object<UserDto>, user))
};
"""
    irs = [
        tsfront.lower(t.encode(), f"{n}.hpp", "cpp") for n, t in (("ctrl", ctrl), ("svc", svc), ("db", db))
    ]
    got = {(f.function, str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows}
    assert ("UserController.createUser", f"{REQ}#email", "sqlite://default/AppUser#email") in got
    assert (
        "UserController.findUser",
        "code://default/ctrl.hpp#email",
        "log://oatpp/UserController#email",
    ) in got
    assert ("UserService.createUser", "code://default/svc.hpp#email", "sqlite://default/AppUser#email") in got


def test_oatpp_endpoint_rewrite_keeps_every_offset() -> None:
    """The rewritten header has the macro's length and newlines, so lines and bytes after it stay put."""
    src = b'  ENDPOINT("PUT", "users/{id}", putUser,\n     PATH(String, id),\n     BODY_DTO(Object<UserDto>, dto))\n{ x; }'
    out = endpoints(src)
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert out.startswith(b"  void putUser(String id, BodyRequest dto)")
    assert out.endswith(b"\n{ x; }")
    assert endpoints(b'ENDPOINT("GET", "x", broken') == b'ENDPOINT("GET", "x", broken'


def test_sql_built_as_strings_streams_and_format_calls(models: Models) -> None:
    """SQL concatenated into a local and passed as ``sql.c_str()``, written into a ``std::stringstream`` and
    run as ``ss.str()``, or made by ``fmt::format``: its table resolves; a formatted SELECT is a read."""
    src = """
void add(MYSQL *conn, sqlite3 *db, pqxx::work &txn, const std::string &email, const std::string &phone,
         const std::string &city) {
  std::string sql = "INSERT INTO users (email) VALUES ('" + email + "')";
  mysql_query(conn, sql.c_str());
  std::stringstream ss;
  ss << "INSERT INTO contacts (phone) VALUES ('" << phone << "')";
  sqlite3_exec(db, ss.str().c_str(), nullptr, nullptr, nullptr);
  txn.exec(fmt::format("UPDATE places SET city = '{}' WHERE id = 1", city));
  txn.exec(fmt::format("SELECT * FROM places WHERE city = '{}'", city));
}
"""
    assert flows(models, sq=src) == {
        ("code://default/sq.cc#email", "mysql://default:3306/users#email"),
        ("code://default/sq.cc#phone", "sqlite://default/contacts#phone"),
        ("code://default/sq.cc#city", "postgres://default:5432/places#city"),
    }


def test_nested_request_records_are_narrowed_by_the_next_key(models: Models) -> None:
    """A request's nested message or object about a person (gRPC's ``request->user()``, a JSON body's
    ``["account"]``) is narrowed by the accessor or key read next (``user.email()``, ``["city"]``); a
    nested message about something else (``request->options()``) and a dump of one (``DebugString()``)
    are not sources."""
    src = """
Status Impl::CreateUser(ServerContext* context, const CreateUserRequest* request, CreateUserReply* reply) {
  const auto& user = request->user();
  spdlog::info("creating {}", user.email());
  LOG(INFO) << "phone " << request->profile().phone_number() << " page " << request->options().page_size();
  std::cout << request->user().DebugString() << std::endl;
  return Status::OK;
}
void C::h(const HttpRequestPtr &req) {
  auto json = req->getJsonObject();
  LOG_INFO << (*json)["account"]["city"].asString();
}
"""
    assert flows(models, g=src) == {
        (f"{REQ}#email", "log://cpp/spdlog#email"),
        (f"{REQ}#phone_number", "log://cpp/glog#phone_number"),
        (f"{REQ}#city", "log://cpp/trantor#city"),
    }
