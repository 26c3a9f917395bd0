"""Stand-in for Lambda's Python bootstrap: ``python -I -S lambda_bootstrap.py TASK_ROOT RUNTIME_PATH TIMEOUT``.

Reads one JSON event per line on stdin and answers each with one JSON line on the stdout it was given;
everything the function prints goes to stderr, as CloudWatch would collect it.
"""

import json
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
        self.invoked_function_arn = f"arn:aws:lambda:{os.environ['AWS_REGION']}:123456789012:function:{self.function_name}"
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    task_root, runtime_path, timeout = sys.argv[1:4]
    # Lambda's order: the function's own code first, then the runtime's boto3, then the standard library.
    sys.path[0:1] = [task_root, runtime_path]
    os.chdir(task_root)
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(__import__(module_name), function_name)
    for line in sys.stdin:
        try:
            reply = handler(json.loads(line), Context(float(timeout)))
        except Exception as exc:
            reply = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


main()
