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

``RASD_BENCH_TASK_PROFILE=<name>`` also runs the steps of the tasks whose name holds ``<name>``
(``Agent._execute_actor``: the stories agent) under cProfile, from the worker's first article to
its ``RASD_BENCH_TASK_PROFILE_UNTIL``-th (5000, the backlog), and writes the statistics to
``$RASD_BENCH_TASK_CPU.<pid>.prof`` (``python -m pstats``): what those steps ran, by function,
their awaits left out (other tasks are not profiled). cProfile's cost per call inflates many
small calls: use it for the split, the timed run for the total.

``RASD_BENCH_TASK_PARTS=1`` also charges the stories agent's task by part (``part <name>`` in
the snapshots): the functions it calls (the candidates' parse, advance, the outbox call, the
sends, the table's writes and deliveries, faust's event iteration, acks), each timed by the
task's own CPU clock (its steps' CPU so far, plus the current step's), so an await inside a
part does not count what other tasks ran meanwhile. Parts nest where the functions do (a
delivery's sends are in ``delivered`` and in ``send changelog``). The collector's runs are
counted by generation, in the agent's task or elsewhere in the loop (``gc.callbacks``); one in
the agent's task is also in the part whose allocation started it.
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

    _profiled = os.environ.get("RASD_BENCH_TASK_PROFILE")
    _until = int(os.environ.get("RASD_BENCH_TASK_PROFILE_UNTIL", "5000"))
    _profile = {"on": None, "done": False}

    def _articles() -> float:
        metrics = sys.modules.get("rasd.streams.metrics")
        return metrics.ARTICLES._value.get() if metrics else 0.0

    def _under_profile(handle, owner: str) -> None:
        import cProfile

        n = _articles()
        if _profile["done"] or n <= 0 or _profiled not in owner:
            _run(handle)
            return
        if _profile["on"] is None:
            _profile["on"] = cProfile.Profile()
        profile = _profile["on"]
        profile.enable()
        try:
            _run(handle)
        finally:
            profile.disable()
        if n >= _until:
            _profile["done"] = True
            profile.dump_stats(f"{os.environ['RASD_BENCH_TASK_CPU']}.{os.getpid()}.prof")

    # The event loop thread's current step: its task and when (in thread CPU time) it began;
    # and each task's CPU over its finished steps (for the parts' task clock).
    _step: dict = {"task": None, "start": 0.0}
    _task_cpu: dict = {}

    def _timed(handle) -> None:
        start = time.thread_time()
        main = threading.current_thread() is threading.main_thread()
        task = getattr(handle._callback, "__self__", None) if main else None
        if main:
            _step["task"], _step["start"] = task, start
        try:
            if _profiled and main:
                _under_profile(handle, _owner(handle))
            else:
                _run(handle)
        finally:
            spent = time.thread_time() - start
            # Named after the step, as mode's wrapper task awaits its coroutine only then.
            _cpu[("loop " if main else "consumer thread ") + _owner(handle)] += spent
            if main:
                _step["task"] = None
                if isinstance(task, asyncio.Task):
                    _task_cpu[task] = _task_cpu.get(task, 0.0) + spent

    asyncio.events.Handle._run = _timed

    _parts = bool(os.environ.get("RASD_BENCH_TASK_PARTS"))

    def _in_agent() -> bool:
        task = _step["task"]
        return isinstance(task, asyncio.Task) and _name(task.get_coro()) == "Agent._execute_actor"

    def _task_clock() -> float:
        return _task_cpu.get(_step["task"], 0.0) + time.thread_time() - _step["start"]

    def _part(name, function):
        def timed(*args, **kwargs):
            if not _in_agent():
                return function(*args, **kwargs)
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                _cpu["part " + name] += time.thread_time() - start

        return timed

    def _async_part(name, function):
        async def timed(*args, **kwargs):
            if not _in_agent():
                return await function(*args, **kwargs)
            start = _task_clock()
            try:
                return await function(*args, **kwargs)
            finally:
                label = name(*args) if callable(name) else name
                _cpu["part " + label] += _task_clock() - start

        return timed

    def _sent_to(_producer, topic, *_args) -> str:
        if not isinstance(topic, str):  # rasd.streams.sending.send: its (topic, key, value)s
            topic = topic[0][0] if topic else "nothing"
        return "send changelog" if topic.endswith("-changelog") else "send " + topic.split(".")[-1]

    _collecting = {"start": 0.0}

    def _collector(phase: str, info: dict) -> None:
        # Where the collector ran: a collection counts in the part whose allocation started it.
        if threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            _collecting["start"] = time.thread_time()
            return
        where = "in the agent's task" if _in_agent() else "elsewhere in the loop"
        _cpu[f"part gc generation {info['generation']} {where}"] += (
            time.thread_time() - _collecting["start"]
        )

    def _charge_parts(app) -> None:
        import gc

        import faust.events
        from faust.transport.drivers import aiokafka as driver

        from rasd import outbox
        from rasd.streams import state

        for name in ("read_candidates", "advance", "encode", "in_order", "finished"):
            setattr(app, name, _part(name, getattr(app, name)))
        state.StateStore.put = _part("put", state.StateStore.put)
        faust.events.Event.ack = _part("ack", faust.events.Event.ack)
        outbox.Outbox.write_many = _async_part("write_many", outbox.Outbox.write_many)
        table = state.ChangelogTable
        table.delivered = _async_part("delivered", table.delivered)
        driver.Producer.send = _async_part(_sent_to, driver.Producer.send)
        gc.callbacks.append(_collector)
        # Batched sends (rasd.streams.sending), where the code has them.
        for module, name in ((app, "send_batches"), (state, "send"), (state, "send_to")):
            if hasattr(module, name):
                setattr(module, name, _async_part(_sent_to, getattr(module, name)))

    def _count_batches() -> bool:
        # The stories agent looks _batches up when it starts, after the rule set is read.
        app = sys.modules.get("rasd.streams.app")
        if app is None or not hasattr(app, "create_app"):
            return False
        batches = app._batches

        async def counted(*args, **kwargs):
            events = aiter(batches(*args, **kwargs))
            while True:
                start = _task_clock() if _parts else 0.0
                try:
                    batch = await anext(events)
                except StopAsyncIteration:
                    return
                finally:
                    if _parts:
                        _cpu["part batches"] += _task_clock() - start
                _batches.append(len(batch))
                yield batch

        app._batches = counted
        if _parts:
            _charge_parts(app)
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
