"""CPU time of each asyncio task of ``rasd worker``, for bench/pipeline.py (not for production).

    RASD_BENCH_TASK_CPU=/tmp/tasks PYTHONPATH=bench/taskcpu \\
        python bench/pipeline.py --eval-dir ../shared/eval
    python bench/taskcpu/report.py /tmp/tasks

Python imports this module at start-up when its directory is on PYTHONPATH (the bench's worker
inherits the environment). In the worker only, it times every event-loop callback with
``time.thread_time`` and adds it to the task it steps (named by its coroutine, or by the task
that mode's ``Service._execute_task`` wraps) or to the callback, per thread; every 0.25 s it
appends the totals with the worker's article counter and the stories agent's batch sizes to
``$RASD_BENCH_TASK_CPU.<pid>``. Two clock reads per callback (about 2 us each here) inflate
tasks of many short steps: compare runs made with it, not with the bench's own account.
"""

import os
import sys

if os.environ.get("RASD_BENCH_TASK_CPU") and sys.argv[-1:] == ["worker"]:
    import asyncio
    import asyncio.events
    import collections
    import json
    import threading
    import time

    _cpu: collections.Counter = collections.Counter()
    _batches: list[int] = []
    _run = asyncio.events.Handle._run

    def _name(obj) -> str:
        return getattr(obj, "__qualname__", None) or type(obj).__name__

    def _owner(handle) -> str:
        task = getattr(handle._callback, "__self__", None)
        if isinstance(task, asyncio.Task):
            coro = task.get_coro()
            name = _name(coro)
            inner = getattr(coro, "cr_await", None)
            if inner is not None and name.endswith("_execute_task"):
                name = _name(inner)
            return "task " + name
        return "callback " + _name(handle._callback)

    def _timed(handle) -> None:
        start = time.thread_time()
        try:
            _run(handle)
        finally:
            main = threading.current_thread() is threading.main_thread()
            _cpu[("loop " if main else "consumer thread ") + _owner(handle)] += (
                time.thread_time() - start
            )

    asyncio.events.Handle._run = _timed

    def _count_batches() -> bool:
        # The stories agent looks _batches up when it starts, after the rule set is read.
        app = sys.modules.get("rasd.streams.app")
        if app is None or not hasattr(app, "create_app"):
            return False
        batches = app._batches

        async def counted(*args, **kwargs):
            async for batch in batches(*args, **kwargs):
                _batches.append(len(batch))
                yield batch

        app._batches = counted
        return True

    def _write() -> None:
        out = open(f"{os.environ['RASD_BENCH_TASK_CPU']}.{os.getpid()}", "w")  # noqa: SIM115
        counted = False
        while True:
            time.sleep(0.05 if not counted else 0.25)
            counted = counted or _count_batches()
            articles = sys.modules.get("rasd.streams.metrics")
            n = articles.ARTICLES._value.get() if articles else 0.0
            snapshot = {"t": time.time(), "articles": n, "cpu": dict(_cpu), "batches": _batches}
            out.write(json.dumps(snapshot) + "\n")
            out.flush()

    threading.Thread(target=_write, daemon=True).start()
