"""C++ service code the built-in models were not written beside: one small self-written snippet per rule
(libpqxx, sqlite3, MySQL Connector, Drogon, oatpp, gRPC, spdlog), each naming the general rule it checks."""

from __future__ import annotations

import pytest

from flowscope_hack_static import tsfront
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.packs import Models, load_models


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
