// Starting a command from node forks node itself (libuv: fork, then exec), which copies the page
// tables of the whole node process: on the 2-core VM the lab runs on, that costs tens of
// milliseconds per command for a test process of 100 MB, and the lab's tests start thousands
// of commands (ip netns exec, swaks, postqueue, openssl...). So the lab's commands are started
// by one small helper process per node process, a Python program (python3 is already a lab
// dependency) that forks itself instead: a few megabytes, and CPython starts children with
// vfork where it can. Same argv, environment, stdin, captured output, exit code and timeout
// (the child killed) as a direct spawn; FACTEUR_LAB_SPAWN=direct spawns directly, and so does
// any process where the helper cannot start.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

export interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface SpawnRequest {
  argv: string[];
  env: NodeJS.ProcessEnv;
  input: string;
  timeoutMs: number;
}

// One thread per command: each waits on its child (communicate), output captured whole.
// A command that cannot start answers 127, as a shell would; one killed by a signal 128, as the
// direct spawn reports it; one past its time is killed (SIGKILL) and reported as timed out.
const HELPER_PY = String.raw`
import json, subprocess, sys, threading
out = sys.stdout
lock = threading.Lock()
def answer(res):
    with lock:
        out.write(json.dumps(res) + "\n")
        out.flush()
def handle(req):
    res = {"id": req["id"], "code": 127, "stdout": "", "stderr": "", "timedOut": False}
    try:
        p = subprocess.Popen(req["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=req["env"], close_fds=True)
    except OSError as e:
        res["stderr"] = "spawn %s: %s" % (req["argv"][0], e)
        return answer(res)
    try:
        o, e = p.communicate(req["input"].encode(), timeout=req["timeoutMs"] / 1000)
    except subprocess.TimeoutExpired:
        p.kill()
        o, e = p.communicate()
        res["timedOut"] = True
    res["stdout"] = o.decode("utf-8", "replace")
    res["stderr"] = e.decode("utf-8", "replace")
    res["code"] = p.returncode if p.returncode >= 0 else 128
    answer(res)
for line in sys.stdin:
    threading.Thread(target=handle, args=(json.loads(line),), daemon=True).start()
`;

const PYTHON = "/usr/bin/python3";

interface Helper {
  child: ChildProcessWithoutNullStreams;
  pending: Map<number, (r: Spawned) => void>;
  next: number;
}

/** The helper of this process: undefined until first used, null where it cannot run. */
let helper: Helper | null | undefined;

function startHelper(): Helper | null {
  if (process.env.FACTEUR_LAB_SPAWN === "direct" || !existsSync(PYTHON)) return null;
  const child = spawn(PYTHON, ["-c", HELPER_PY], { stdio: ["pipe", "pipe", "pipe"] });
  const h: Helper = { child, pending: new Map(), next: 0 };
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.on("error", () => {});
  createInterface({ input: child.stdout }).on("line", (line) => {
    const r = JSON.parse(line) as Spawned & { id: number };
    const done = h.pending.get(r.id);
    h.pending.delete(r.id);
    idle(h);
    done?.({ code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut });
  });
  // The helper gone (killed with the test's process group...): what it had not answered fails
  // like a command that could not start, and the next command starts a new helper.
  child.on("close", (code, signal) => {
    if (helper === h) helper = undefined;
    for (const done of h.pending.values()) done({ code: 127, stdout: "", stderr: `facteur lab: the spawn helper exited (${signal ?? code}): ${stderr.trim()}`, timedOut: false });
    h.pending.clear();
  });
  child.on("error", () => {});
  idle(h);
  return h;
}

/** A helper with nothing to do does not keep node running; one with commands in flight does. */
function idle(h: Helper): void {
  const hold = h.pending.size > 0;
  for (const s of [h.child, h.child.stdin, h.child.stdout, h.child.stderr] as { ref(): void; unref(): void }[]) {
    if (hold) s.ref();
    else s.unref();
  }
}

/** Runs `argv` to completion through the helper (or directly where there is none). */
export function spawnCaptured(req: SpawnRequest): Promise<Spawned> {
  if (helper === undefined) helper = startHelper();
  const h = helper;
  if (!h) return spawnDirect(req);
  return new Promise((resolve) => {
    const id = ++h.next;
    h.pending.set(id, resolve);
    idle(h);
    h.child.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
  });
}

/** The same, with node's own spawn (a fork of this process). */
export function spawnDirect(req: SpawnRequest): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(req.argv[0]!, req.argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: req.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, req.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(req.input);
  });
}
