"""The limit the registration benchmark is measured against: a bare Django view doing
one indexed SELECT by phone and one INSERT, nothing else. Mounted only with KEHU_BENCH=1."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_register(request: HttpRequest) -> JsonResponse:
    phone = json.loads(request.body)["phone"]
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM bench_bare_lead WHERE phone = %s LIMIT 1", [phone])
        row = cur.fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO bench_bare_lead (phone, created_at) VALUES (%s, %s) RETURNING id",
                [phone, timezone.now()],
            )
            row = cur.fetchone()
    return JsonResponse({"id": row[0]}, status=201)
