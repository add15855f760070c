#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The vserver_guest module: a guest present, started, stopped or absent,
# with its limits, through the vs-* commands and their --json output.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vserver_guest
short_description: Manage vserver guests (build, start, stop, destroy, limits)
description:
  - Makes a vserver guest present (built from a template), started, stopped
    or absent, and its limits what the task says.
  - Reads the guest's state from C(vs-list --json) and its limits from
    C(vs-limit --json); changes only what differs, so a second run reports
    no change. Supports check mode and diff mode.
  - Build options apply when the guest is built; a guest that exists is not
    rebuilt because they differ.
  - Runs on the host that holds the guests, as root.
options:
  name:
    description: The guest's name.
    type: str
    required: true
  state:
    description:
      - C(present) builds the guest if missing and leaves it running or not;
        C(started) and C(stopped) also start or stop it; C(absent) stops and
        destroys it (its config, tree and logs).
    type: str
    choices: [present, started, stopped, absent]
    default: started
  template:
    description: Template to build from (C(vs-build --template)).
    type: str
  release:
    description: Distribution release (C(vs-build --release)).
    type: str
  init:
    description: C(systemd) or C(sysvinit) (C(vs-build --init)).
    type: str
  include:
    description: Extra packages in the guest (C(vs-build --include)).
    type: list
    elements: str
  hostname:
    description: The guest's host name (C(vs-build --hostname)).
    type: str
  ip:
    description: The guest's addresses, ADDR/LEN, comma-separated (C(vs-build --ip)).
    type: str
  bridge:
    description: Bridge to attach the guest to (C(vs-build --bridge)).
    type: str
  privileged:
    description:
      - C(true) builds a privileged guest (C(--privileged)), C(false) an
        unprivileged one (C(--unprivileged)); unset, vs-build's default
        (unprivileged).
    type: bool
  build_options:
    description: Further C(vs-build) arguments, given as they are.
    type: list
    elements: str
    default: []
  limits:
    description:
      - The guest's limits, as C(vs-limit) keys and values, for example
        C(cpu.weight), C(cpu.max), C(cpu.cpus), C(rss), C(anon), C(memlock),
        C(pids), C(disk), C(rate), C(ceil), C(io.weight), C(io.read_bps),
        C(io.write_bps), C(io.read_iops), C(io.write_iops).
      - Values are compared after vs-limit's own parsing (C(vs-limit --json
        --dry-run)), so C(1G) and C(1024M) are the same. Keys not given are
        left as they are. A running guest gets a change at once.
    type: dict
    default: {}
  wait:
    description:
      - On start, how long to wait until the guest is ready (C(vs-start --wait)),
        in seconds; 0 waits up to the guest's own start_timeout, -1 does not wait.
    type: int
    default: 0
  stop_timeout:
    description: Seconds a clean shutdown may take (C(vs-stop --timeout)).
    type: int
  bindir:
    description: Directory of the vs-* commands; by default they are looked up in PATH, /usr/sbin and /usr/local/sbin.
    type: path
author:
  - vserver project
"""

EXAMPLES = r"""
- name: A web guest, running, with limits
  vserver_guest:
    name: web1
    template: debian
    include: [nginx]
    limits:
      cpu.weight: 300
      rss: 1G
      pids: 512
      io.write_bps: 20M

- name: Gone, with everything it had
  vserver_guest:
    name: old1
    state: absent
"""

RETURN = r"""
guest:
  description: The guest as C(vs-status --json) shows it afterwards (null once absent).
  returned: always
  type: dict
limits:
  description: The guest's limits afterwards, as C(vs-limit --json) shows them.
  returned: when the guest exists
  type: dict
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


class Guests:
    def __init__(self, module):
        self.m = module
        extra = ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        if module.params["bindir"]:
            extra = [module.params["bindir"]]
        self.bins = {}
        for c in ("vs-build", "vs-start", "vs-stop", "vs-destroy", "vs-list", "vs-limit"):
            if module.params["bindir"]:
                p = os.path.join(module.params["bindir"], c)
                if not os.access(p, os.X_OK):
                    module.fail_json(msg="No %s in %s" % (c, module.params["bindir"]))
                self.bins[c] = p
            else:
                self.bins[c] = module.get_bin_path(c, required=True, opt_dirs=extra)

    def run(self, args, what):
        cmd = [self.bins[args[0]]] + args[1:]
        rc, out, err = self.m.run_command(cmd)
        if rc != 0:
            # The command's own message, e.g. 'vs-limit: ... bad value "1X" ...'.
            msg = (err or out).strip() or "exit status %d" % rc
            self.m.fail_json(msg="%s failed: %s" % (what, msg), rc=rc, cmd=cmd, stdout=out, stderr=err)
        return out

    def json(self, args, what):
        out = self.run(args, what)
        try:
            return json.loads(out)
        except ValueError as e:
            self.m.fail_json(msg="%s printed no JSON (%s): %r" % (what, e, out[:200]))

    def info(self, name):
        for g in self.json(["vs-list", "--json"], "vs-list --json"):
            if g.get("name") == name:
                return g
        return None


def build_args(p):
    args = ["vs-build", p["name"]]
    for opt, key in (("--template", "template"), ("--release", "release"), ("--init", "init"),
                     ("--hostname", "hostname"), ("--ip", "ip"), ("--bridge", "bridge")):
        if p[key]:
            args += [opt, p[key]]
    if p["include"]:
        args += ["--include", ",".join(p["include"])]
    if p["privileged"] is True:
        args.append("--privileged")
    elif p["privileged"] is False:
        args.append("--unprivileged")
    return args + list(p["build_options"])


def limit_assignments(limits):
    out = []
    for k, v in limits.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "yes" if v else "no"
        out.append("%s=%s" % (k, v))
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="started", choices=["present", "started", "stopped", "absent"]),
            template=dict(type="str"),
            release=dict(type="str"),
            init=dict(type="str"),
            include=dict(type="list", elements="str"),
            hostname=dict(type="str"),
            ip=dict(type="str"),
            bridge=dict(type="str"),
            privileged=dict(type="bool"),
            build_options=dict(type="list", elements="str", default=[]),
            limits=dict(type="dict", default={}),
            wait=dict(type="int", default=0),
            stop_timeout=dict(type="int"),
            bindir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name, state, check = p["name"], p["state"], module.check_mode
    vs = Guests(module)
    actions = []
    diff = {"before": {}, "after": {}}

    g = vs.info(name)
    diff["before"]["exists"] = g is not None
    diff["before"]["state"] = g["state"] if g else "absent"

    if state == "absent":
        if g is not None:
            actions.append("destroyed")
            if not check:
                vs.run(["vs-destroy", "--force", name], "vs-destroy")
        diff["after"] = {"exists": False, "state": "absent"}
        module.exit_json(changed=bool(actions), actions=actions, guest=None, diff=diff)

    built = False
    if g is None:
        actions.append("built")
        built = True
        if check:
            # Nothing to compare limits with: all of them would be set.
            if p["limits"]:
                actions.append("limits: " + " ".join(limit_assignments(p["limits"])))
            if state == "started":
                actions.append("started")
            diff["after"] = {"exists": True, "state": "running" if state == "started" else "stopped"}
            module.exit_json(changed=True, actions=actions, guest=None, diff=diff)
        vs.run(build_args(p), "vs-build")
        g = vs.info(name)
        if g is None:
            module.fail_json(msg="vs-build succeeded but vs-list does not show guest %r" % name)

    # Limits: what the task asks, after vs-limit's own parsing, against now.
    assigns = limit_assignments(p["limits"])
    now = vs.json(["vs-limit", "--json", name], "vs-limit --json")
    limits_after = now["limits"]
    if assigns:
        want = vs.json(["vs-limit", "--json", "--dry-run", name] + assigns, "vs-limit")
        todo = [a for a, key in zip(assigns, want["changed"]) if want["limits"].get(key) != now["limits"].get(key)]
        diff["before"]["limits"] = dict((k, now["limits"].get(k)) for k in want["changed"])
        diff["after"]["limits"] = dict((k, want["limits"].get(k)) for k in want["changed"])
        if todo:
            actions.append("limits: " + " ".join(todo))
            limits_after = want["limits"]
            if not check:
                limits_after = vs.json(["vs-limit", "--json", name] + todo, "vs-limit")["limits"]

    running = g["state"] == "running"
    if state == "started" and not running:
        actions.append("started")
        if not check:
            args = ["vs-start"]
            if p["wait"] == 0:
                args.append("--wait")
            elif p["wait"] > 0:
                args.append("--wait=%d" % p["wait"])
            vs.run(args + [name], "vs-start")
    elif state == "stopped" and g["state"] in ("running", "starting", "stale"):
        actions.append("stopped")
        if not check:
            args = ["vs-stop"]
            if p["stop_timeout"] is not None:
                args += ["--timeout", str(p["stop_timeout"])]
            vs.run(args + [name], "vs-stop")

    after = g if check else vs.info(name)
    diff["after"]["exists"] = True
    if check:
        diff["after"]["state"] = {"started": "running", "stopped": "stopped"}.get(state, g["state"])
    else:
        diff["after"]["state"] = after["state"] if after else "absent"
    module.exit_json(changed=bool(actions), actions=actions, guest=after, limits=limits_after,
                     built=built, diff=diff)


if __name__ == "__main__":
    main()
