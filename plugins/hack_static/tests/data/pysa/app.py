import os
import subprocess

import requests
from audit import AuditLog


def handler(request):
    token = os.getenv("API_TOKEN")
    q = request.GET["q"]
    requests.post("https://search.example/v1/q", json={"q": q}, data=token)
    log = AuditLog()
    log.write(q)
    subprocess.run(q)
