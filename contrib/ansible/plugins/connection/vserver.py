# SPDX-License-Identifier: GPL-2.0-or-later
# The vserver connection: tasks run inside a running guest through vs-enter,
# on the host that holds it, without ssh into the guest.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: vserver
short_description: Run tasks inside a vserver guest through vs-enter
description:
  - Runs commands inside a running vserver guest with C(vs-enter), which
    joins all its namespaces and cgroups as the guest's root; files go in
    and out through C(dd) inside the guest, over vs-enter's pipes, so they
    are written by the guest's own root (an unprivileged guest's files are
    owned by its mapped ids) and binary files pass unchanged.
  - Must run as root on the host that holds the guest (use it with hosts
    whose inventory name, or ansible_host, is the guest's name, delegated to
    that host if the play runs elsewhere). Modules need python3 in the guest.
author:
  - vserver project
options:
  remote_addr:
    description: The guest's name.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_vserver_name
  vs_enter:
    description: The vs-enter command; by default found in PATH, /usr/sbin or /usr/local/sbin.
    type: str
    default: vs-enter
    vars:
      - name: ansible_vserver_enter
    env:
      - name: ANSIBLE_VSERVER_ENTER
  executable:
    description: The shell that runs each command inside the guest.
    type: str
    default: /bin/sh
    vars:
      - name: ansible_vserver_executable
"""

import os
import shutil
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.module_utils.six.moves import shlex_quote
from ansible.plugins.connection import BUFSIZE, ConnectionBase
from ansible.utils.display import Display

display = Display()


class Connection(ConnectionBase):
    """Tasks inside a vserver guest, through vs-enter."""

    transport = "vserver"
    has_pipelining = True
    has_tty = False
    default_user = "root"

    def __init__(self, play_context, new_stdin, *args, **kwargs):
        super(Connection, self).__init__(play_context, new_stdin, *args, **kwargs)
        self.guest = None
        self.vs_enter = None

    def _connect(self):
        super(Connection, self)._connect()
        if self._connected:
            return self
        self.guest = self.get_option("remote_addr") or self._play_context.remote_addr
        cmd = self.get_option("vs_enter")
        path = cmd if os.path.sep in cmd else shutil.which(cmd, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin:/sbin")
        if not path or not os.access(path, os.X_OK):
            raise AnsibleConnectionFailure("vs-enter not found (%s): is vserver installed on this host?" % cmd)
        self.vs_enter = path
        display.vvv("ENTER guest %s with %s" % (self.guest, self.vs_enter), host=self.guest)
        self._connected = True
        return self

    def _popen(self, cmd, stdin=subprocess.PIPE):
        """vs-enter GUEST -- SHELL -c CMD, stdio on pipes (vs-enter relays
        them unchanged; a terminal would get a pty instead)."""
        argv = [self.vs_enter, self.guest, "--", self.get_option("executable"), "-c", cmd]
        display.vvv("EXEC %s" % " ".join(shlex_quote(a) for a in argv), host=self.guest)
        argv = [to_bytes(a, errors="surrogate_or_strict") for a in argv]
        return subprocess.Popen(argv, shell=False, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        p = self._popen(cmd)
        stdout, stderr = p.communicate(in_data)
        return p.returncode, stdout, stderr

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self.guest)
        if not os.path.exists(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound("file or module does not exist: %s" % in_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as f:
            # dd of= truncates, and writes as the guest's root: the file
            # belongs to the guest, whatever the ids it maps to on the host.
            p = self._popen("dd of=%s bs=%d status=none" % (shlex_quote(out_path), BUFSIZE), stdin=f)
            stdout, stderr = p.communicate()
        if p.returncode != 0:
            raise AnsibleError("failed to put %s into guest %s at %s (exit status %d): %s"
                               % (in_path, self.guest, out_path, p.returncode, to_native(stderr or stdout).strip()))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self.guest)
        p = self._popen("dd if=%s bs=%d status=none" % (shlex_quote(in_path), BUFSIZE), stdin=subprocess.DEVNULL)
        try:
            with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb+") as f:
                chunk = p.stdout.read(BUFSIZE)
                while chunk:
                    f.write(chunk)
                    chunk = p.stdout.read(BUFSIZE)
        except OSError as e:
            p.kill()
            p.wait()
            raise AnsibleError("failed to write %s: %s" % (out_path, to_native(e)))
        stderr = p.stderr.read()
        p.wait()
        if p.returncode != 0:
            raise AnsibleError("failed to fetch %s from guest %s (exit status %d): %s"
                               % (in_path, self.guest, p.returncode, to_native(stderr).strip()))

    def close(self):
        super(Connection, self).close()
        self._connected = False
