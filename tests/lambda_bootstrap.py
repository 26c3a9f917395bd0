"""Stand-in for Lambda's Python bootstrap: ``python -I -S -B lambda_bootstrap.py TASK_ROOT RUNTIME_PATH TIMEOUT``.

Reads one JSON event per line on stdin and answers each with one JSON line on the stdout it was given;
everything the function prints goes to stderr, as CloudWatch would collect it.

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`` it initialises as SnapStart does: it imports the handler,
runs the before-snapshot hooks (in reverse order of registration) and answers ``"snapshot"``. Every later line
is then ``{"restore": [EVENTS_FIFO, REPLIES_FIFO]}``: the process forks, which copies its memory as a restore
copies a snapshot's, and the child runs the after-restore hooks (in order of registration), then serves the
events it reads from the first FIFO with replies on the second, while this process waits for the next restore.
"""

import importlib
import json
import math
import os
import sys
import time
import traceback
import uuid


class Context:
    """The attributes of Lambda's context object that handlers read."""

    def __init__(self, timeout: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        region = os.environ["AWS_REGION"]
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def serve(handler, events, replies, timeout: float) -> None:
    """Answer every event line of ``events`` with one reply line on ``replies``, logging as Lambda does.

    Lambda's START, END and REPORT lines go to the log, the REPORT with the handler's own time and the
    billed time (rounded up to the millisecond) that cost estimates read.
    """
    version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
    for line in events:
        context = Context(timeout)
        print(f"START RequestId: {context.aws_request_id} Version: {version}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            reply = handler(json.loads(line), context)
        except Exception as exc:
            reply = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": traceback.format_exc()}
        took = (time.perf_counter() - started) * 1000
        print(f"END RequestId: {context.aws_request_id}\nREPORT RequestId: {context.aws_request_id}\t"
              f"Duration: {took:.2f} ms\tBilled Duration: {math.ceil(took)} ms\t"
              f"Memory Size: {context.memory_limit_in_mb} MB\t", file=sys.stderr, flush=True)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def snapshot_then_restore(handler, replies, timeout: float) -> None:
    """Run the before-snapshot hooks, then fork a restored environment for each restore line on stdin."""
    import snapshot_restore_py

    for function, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        function(*args, **kwargs)
    replies.write('"snapshot"\n')
    replies.flush()
    children = []
    for line in sys.stdin:
        events_path, replies_path = json.loads(line)["restore"]
        pid = os.fork()
        if pid == 0:
            try:
                for function, args, kwargs in snapshot_restore_py.get_after_restore():
                    function(*args, **kwargs)
                with open(events_path) as events, open(replies_path, "w") as own:
                    serve(handler, events, own, timeout)
            finally:
                os._exit(0)
        children.append(pid)
        replies.write(json.dumps({"restored": pid}) + "\n")
        replies.flush()
    for pid in children:
        os.waitpid(pid, 0)


def main() -> None:
    task_root, runtime_path, timeout = sys.argv[1:4]
    # Lambda's order: the function's own code first, then the runtime's boto3, then the standard library.
    sys.path[0:1] = [task_root, runtime_path]
    os.chdir(task_root)
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    # As Lambda's runtime (awslambdaric/bootstrap.py, _get_handler): a dotted module path names a submodule.
    handler = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        snapshot_then_restore(handler, replies, float(timeout))
    else:
        serve(handler, sys.stdin, replies, float(timeout))


main()
