"""The instrumentations: one module per library, each an :class:`~flowscope_probes.instrument.Instrumentation`
listed in the entry-point group ``flowscope_probes.instrumentations``.

Sinks recorded (the asset names equal the static plugin's for the same sink; rules in :mod:`.names`):

==================  ===============================================  =========================================
entry point         where                                            asset
==================  ===============================================  =========================================
``sqlite3``         connection factory (``sqlite3.connect``)        ``sqlite://<file stem>`` / table#column
``psycopg``         ``psycopg.Cursor.execute/executemany``           ``postgres://host:port`` / db.schema.table
``psycopg2``        connection factory (``psycopg2.connect``)       same
``sqlalchemy``      ``after_cursor_execute`` engine event            as the DB-API ones
``logging``         ``logging.Logger.handle``                        ``log://python`` / logger name
``requests``        ``requests.Session.send``                        ``http://host[:port]`` / path template
``httpx``           ``httpx.Client.send``, ``AsyncClient.send``      same
``urllib3``         ``HTTPConnectionPool.urlopen``                   same
``http_client``     ``http.client.HTTPConnection.request``           same
``redis``           ``Redis.execute_command`` (+ pipelines)          ``cache://<cluster>`` / key prefix
``kafka``           ``kafka.KafkaProducer.send``                     ``kafka://host:port`` / topic
``confluent_kafka`` ``confluent_kafka.Producer`` (a subclass)        same
``files``           ``open`` for writing, then ``write``             ``file`` / absolute path
==================  ===============================================  =========================================

SQL is recorded once the statement ran without error; every other sink records the attempt, before the call
(a request or message that fails was still sent towards that sink).

Shared machinery: :mod:`._base` (patching beside other wrappers, cheap wrappers), :mod:`._http` (one record
per outgoing request across stacked clients), :mod:`._db` and :mod:`.sqlmap` (bound parameters to columns).
"""
