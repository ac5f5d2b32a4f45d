#!/usr/bin/python3
# test-networking.py: bridge networks end to end, with real netavark,
# aardvark-dns, iptables, network namespaces and containers, on the private
# bus of tests/private-bus.sh (the script puts itself under it).
#
#   - CreateNetwork, and bad input to it and to CreateContainer's network
#     options, answered with named errors that change nothing;
#   - two containers on one network reach each other by address and by name
#     and alias (aardvark-dns, kept from forwarding anywhere);
#   - published tcp and udp ports answer on 127.0.0.1; a host port in use,
#     by another container or by a host listener, fails the start with InUse
#     before anything is set up (no namespace, no bridge, no address);
#   - addresses survive a daemon SIGKILL and restart and are not handed out
#     twice; an internal network has no route out; the host's namespace;
#   - stop, exit, removal, a dead conmon, a daemon SIGKILL and a simulated
#     reboot each leave no veth, bridge, namespace or iptables rule of ours;
#   - Network.Remove: InUse, then with force.
# Network traffic goes only to 127.0.0.1 and to addresses inside the test's
# own bridges, on subnets the test checked no route of the host overlaps.
# Needs root, netavark and aardvark-dns. Prints TAP.
import ipaddress
import json
import os
import signal
import socket
import sys
import urllib.request

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctrdtest as T  # noqa: E402
from ctrdtest import GLib  # noqa: E402

T.enter_private_bus(__file__)

NETWORK = T.NAME + ".Network"
E = {name: T.ERROR + name for name in ("InvalidArgument", "NotFound", "NameInUse", "InUse",
                                       "InvalidState", "LimitExceeded")}
NETAVARK = "/usr/lib/podman/netavark"
TAG = "%d" % (os.getpid() % 100000)


def V(sig, *values):
    return GLib.Variant("(" + sig + ")", values)


def host_routes():
    """The IPv4 networks routed on the host."""
    nets = []
    for line in T.run(["ip", "-4", "route", "show", "table", "all"]).stdout.splitlines():
        dest = line.split()[0] if line.split() else ""
        if dest in ("default", "local", "broadcast", "unreachable", "blackhole"):
            dest = line.split()[1] if dest != "default" and len(line.split()) > 1 else ""
        try:
            net = ipaddress.ip_network(dest, strict=False)
        except ValueError:
            continue
        if net.prefixlen > 0:
            nets.append(net)
    return nets


def free_pool():
    """A /16 in 10.200.0.0-10.250.255.255 that nothing on the host routes."""
    routes = host_routes()
    for second in range(200, 251):
        pool = ipaddress.ip_network("10.%d.0.0/16" % second)
        if not any(pool.overlaps(r) for r in routes):
            return pool
    return None


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def links():
    return set(os.listdir("/sys/class/net"))


def bridge_ports(bridge):
    path = "/sys/class/net/%s/brif" % bridge
    return sorted(os.listdir(path)) if os.path.isdir(path) else None


def firewall_lines(needles):
    """iptables-save lines (every table) that mention one of @needles."""
    out = T.run(["iptables-save"]).stdout
    return [line for line in out.splitlines() if any(n in line for n in needles)]


class Net:
    """What the test tracks to count leftovers: its subnets, bridges, chains."""

    def __init__(self):
        self.subnets = set()
        self.bridges = set()
        self.names = set()

    def chains(self):
        import hashlib
        return ["NETAVARK-DN-" + hashlib.sha512(n.encode()).hexdigest().upper()[:13]
                for n in self.names] + \
               ["NETAVARK-" + hashlib.sha512(n.encode()).hexdigest().upper()[:13]
                for n in self.names]

    def needles(self):
        return sorted(self.subnets) + self.chains()


class Ctx:
    def __init__(self, tap, daemon, bus, net):
        self.tap, self.daemon, self.bus, self.net = tap, daemon, bus, net
        self.netns_dir = os.path.join(daemon.run_root, "network", "netns")

    def ok(self, cond, desc, diag=None):
        return self.tap.ok(cond, desc, diag)

    def call(self, path, iface, method, params=None, **kw):
        return T.call(self.bus, path, iface, method, params, **kw)

    def prop(self, path, prop, iface=T.CONTAINER):
        return T.get_property(self.bus, path, iface, prop)

    def netns_files(self):
        return sorted(os.listdir(self.netns_dir)) if os.path.isdir(self.netns_dir) else []

    def addresses(self):
        """(container id, address) rows the daemon holds."""
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.daemon.storage, "state.db"),
                             uri=True)
        try:
            return sorted(db.execute("SELECT container_id, address FROM network_addresses"))
        finally:
            db.close()

    def host_state(self):
        """What a network start could leave on the host, comparable."""
        return {"links": sorted(l for l in links() if l.startswith("ctnt" + TAG) or
                                l in self.net.bridges),
                "netns": self.netns_files(),
                "firewall": firewall_lines(self.net.needles()),
                "addresses": self.addresses()}

    def create_network(self, name, options):
        r = self.call(T.ROOT, T.MANAGER, "CreateNetwork", V("sa{sv}", name, options))
        if r.error is None:
            path = r.value[0]
            self.net.names.add(name)
            self.net.subnets.add(self.prop(path, "Subnet", NETWORK))
            self.net.bridges.add(self.prop(path, "Interface", NETWORK))
            return path, r
        return None, r

    def create(self, name, command, options=None):
        r = self.call(T.ROOT, T.MANAGER, "CreateContainer",
                      V("ssasa{sv}", name, "busybox", list(command), options or {}))
        return (r.value[0] if r.error is None else None), r

    def start(self, path):
        return self.call(path, T.CONTAINER, "Start")

    def exec_(self, path, argv):
        """(exit code, output) of @argv run in the container."""
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        devnull = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            r = self.call(path, T.CONTAINER, "Exec", V("asa{sv}hhh", argv, {}, 0, 1, 1),
                          fds=[devnull, write_end])
        finally:
            os.close(write_end)
            os.close(devnull)
        with os.fdopen(read_end, "rb") as f:
            out = f.read().decode(errors="replace")
        if r.error is not None:
            return None, "%r %s" % (r, out)
        return r.value[0], out

    def wait_state(self, path, states, timeout=T.TIMEOUT):
        return T.wait_until(lambda: self.prop(path, "State") in states, timeout=timeout)

    def stop(self, path):
        return self.call(path, T.CONTAINER, "Stop", V("u", 5))

    def remove(self, path, force=True):
        return self.call(path, T.CONTAINER, "Remove", V("bb", force, False))


# ---------------------------------------------------------------- the cases


def test_create_network(c, pool):
    subnets = list(pool.subnets(new_prefix=24))
    c.subnets = subnets
    path, r = c.create_network("tnet-a" + TAG, {
        "Subnet": GLib.Variant("s", str(subnets[10])),
        "Interface": GLib.Variant("s", "ctnt%sa" % TAG),
        "Labels": GLib.Variant("a{ss}", {"purpose": "test"})})
    if not c.ok(path is not None, "CreateNetwork makes a bridge network", r):
        return None
    props = {p: c.prop(path, p, NETWORK) for p in ("Name", "Driver", "Interface", "Subnet",
                                                   "Gateway", "Internal", "DnsEnabled",
                                                   "Labels", "Containers")}
    c.ok(props == {"Name": "tnet-a" + TAG, "Driver": "bridge", "Interface": "ctnt%sa" % TAG,
                   "Subnet": str(subnets[10]), "Gateway": str(subnets[10][1]),
                   "Internal": False, "DnsEnabled": True, "Labels": {"purpose": "test"},
                   "Containers": []},
         "its properties say what it is", props)
    r = c.call(T.ROOT, T.MANAGER, "GetNetwork", V("s", "tnet-a" + TAG))
    c.ok(r.error is None and r.value[0] == path, "GetNetwork finds it by name", r)
    c.ok(("ctnt%sa" % TAG) not in links(), "nothing is set up on the host before a container runs")
    return path


def test_bad_input(c, net_a):
    """Each call fails with its error and changes nothing."""
    routed = [r for r in host_routes() if r.prefixlen >= 8 and r.version == 4]
    s = GLib.Variant
    other = str(c.subnets[20])
    cases = [
        ("CreateNetwork: bad CIDR", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", "10.1.2.3/33")}), "InvalidArgument"),
        ("CreateNetwork: not a CIDR", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", "ten.one")}), "InvalidArgument"),
        ("CreateNetwork: host bits set", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", str(c.subnets[20][5]) + "/24")}),
         "InvalidArgument"),
        ("CreateNetwork: subnet overlapping another network", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", str(c.subnets[10].supernet(new_prefix=20)))}),
         "InvalidArgument"),
        ("CreateNetwork: duplicate name", "CreateNetwork",
         V("sa{sv}", "tnet-a" + TAG, {"Subnet": s("s", other)}), "NameInUse"),
        ("CreateNetwork: reserved name", "CreateNetwork", V("sa{sv}", "host", {}),
         "InvalidArgument"),
        ("CreateNetwork: gateway outside the subnet", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", other), "Gateway": s("s", "192.0.2.1")}),
         "InvalidArgument"),
        ("CreateNetwork: the interface of another network", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", other), "Interface": s("s", "ctnt%sa" % TAG)}),
         "NameInUse"),
        ("CreateNetwork: a host interface", "CreateNetwork",
         V("sa{sv}", "bad1", {"Subnet": s("s", other), "Interface": s("s", "lo")}), "InUse"),
        ("CreateNetwork: unknown option", "CreateNetwork",
         V("sa{sv}", "bad1", {"Mtu": s("u", 1500)}), "InvalidArgument"),
        ("CreateNetwork: Internal given as s", "CreateNetwork",
         V("sa{sv}", "bad1", {"Internal": s("s", "yes")}), "InvalidArgument"),
        ("GetNetwork: unknown network", "GetNetwork", V("s", "no-such-net"), "NotFound"),
    ]
    if routed:
        cases.append(("CreateNetwork: a subnet routed on the host", "CreateNetwork",
                      V("sa{sv}", "bad1", {"Subnet": s("s", str(routed[0]))}), "InvalidArgument"))

    def container(desc, options, expected):
        cases.append(("CreateContainer: " + desc, "CreateContainer",
                      V("ssasa{sv}", "bad-ctr", "busybox", ["true"], options), expected))

    net = s("s", "tnet-a" + TAG)
    ports = lambda *p: s("a(sqqs)", list(p))  # noqa: E731
    container("unknown network", {"Network": s("s", "no-such-net")}, "NotFound")
    container("IPAddress outside the subnet",
              {"Network": net, "IPAddress": s("s", str(c.subnets[30][7]))}, "InvalidArgument")
    container("IPAddress is the gateway",
              {"Network": net, "IPAddress": s("s", str(c.subnets[10][1]))}, "InvalidArgument")
    container("IPAddress not an address", {"Network": net, "IPAddress": s("s", "x.y")},
              "InvalidArgument")
    container("host port 0", {"Network": net, "PublishPorts": ports(("", 0, 80, "tcp"))},
              "InvalidArgument")
    container("container port 0", {"Network": net, "PublishPorts": ports(("", 8080, 0, "tcp"))},
              "InvalidArgument")
    container("a port above 65535 (not a q)",
              {"Network": net, "PublishPorts": s("a(suus)", [("", 70000, 80, "tcp")])},
              "InvalidArgument")
    container("bad protocol", {"Network": net, "PublishPorts": ports(("", 8080, 80, "sctp"))},
              "InvalidArgument")
    container("bad host address",
              {"Network": net, "PublishPorts": ports(("localhost", 8080, 80, "tcp"))},
              "InvalidArgument")
    container("a host port twice",
              {"Network": net, "PublishPorts": ports(("", 8080, 80, "tcp"),
                                                     ("127.0.0.1", 8080, 81, "tcp"))},
              "InvalidArgument")
    container("ports without a bridge network",
              {"PublishPorts": ports(("", 8080, 80, "tcp"))}, "InvalidArgument")
    container("an alias without a bridge network",
              {"Network": s("s", "host"), "NetworkAliases": s("as", ["x"])}, "InvalidArgument")
    container("a bad alias", {"Network": net, "NetworkAliases": s("as", ["-bad-"])},
              "InvalidArgument")
    container("Network given as as", {"Network": s("as", ["bridge"])}, "InvalidArgument")

    before = T.snapshot(c.daemon, c.bus)
    host_before = c.host_state()
    for desc, method, params, expected in cases:
        r = c.call(T.ROOT, T.MANAGER, method, params)
        after = T.snapshot(c.daemon, c.bus)
        diff = T.snapshot_diff(before, after)
        c.ok(r.error == E[expected] and diff == "" and c.host_state() == host_before,
             "%s: %s, nothing changed" % (desc, expected), "%r\n%s" % (r, diff))
        before = after


def http_get(c, path, host):
    """An HTTP request from inside container @path (busybox's wget crashes
    here; its nc does not)."""
    return c.exec_(path, ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 10 %s 80" % host])


def udp_received(c, path):
    """Datagrams the container's UDP stack got, delivered or not (busybox
    has no UDP server: one to a closed port counts as NoPorts)."""
    code, out = c.exec_(path, ["cat", "/proc/net/snmp"])
    lines = [line.split() for line in out.splitlines() if line.startswith("Udp:")]
    if code != 0 or len(lines) < 2:
        return None
    counters = dict(zip(lines[0][1:], lines[1][1:]))
    return int(counters["InDatagrams"]) + int(counters["NoPorts"])


def test_two_containers(c, net_a):
    net = GLib.Variant("s", "tnet-a" + TAG)
    web, r1 = c.create("web" + TAG, ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html "
                                     "&& exec httpd -f -p 80 -h /www"],
                       {"Network": net, "NetworkAliases": GLib.Variant("as", ["www" + TAG])})
    client, r2 = c.create("client" + TAG, ["sleep", "1000"], {"Network": net})
    if not c.ok(web and client, "two containers on the network are created", (r1, r2)):
        return None, None
    c.ok(c.prop(web, "Network") == "tnet-a" + TAG and c.prop(web, "IPAddress") == "",
         "Network names it; no address before it runs")
    c.ok(sorted(c.prop(net_a, "Containers", NETWORK)) == sorted([web, client]),
         "the network lists them in Containers")
    r1, r2 = c.start(web), c.start(client)
    if not c.ok(r1.error is None and r2.error is None, "both start", (r1, r2)):
        return web, client
    subnet = ipaddress.ip_network(c.prop(net_a, "Subnet", NETWORK))
    ip_web, ip_client = c.prop(web, "IPAddress"), c.prop(client, "IPAddress")
    c.ok(ip_web and ip_client and ip_web != ip_client and
         ipaddress.ip_address(ip_web) in subnet and ipaddress.ip_address(ip_client) in subnet,
         "each has its own address in the subnet (%s, %s)" % (ip_web, ip_client))
    bridge = "ctnt%sa" % TAG
    c.ok(len(bridge_ports(bridge) or []) == 2, "the bridge %s has their two veths" % bridge,
         bridge_ports(bridge))
    code, out = http_get(c, client, ip_web)
    c.ok(code == 0 and "hello" in out, "the client reaches the server's httpd by address", out)
    code, out = c.exec_(client, ["nslookup", "web" + TAG])
    c.ok(code == 0 and ip_web in out, "the client resolves the server's name (aardvark-dns)", out)
    code, out = c.exec_(client, ["nslookup", "www" + TAG])
    c.ok(code == 0 and ip_web in out, "... and its alias", out)
    code, out = http_get(c, client, "www" + TAG)
    c.ok(code == 0 and "hello" in out, "the client reaches it by name (its alias)", out)
    code, out = c.exec_(client, ["cat", "/etc/resolv.conf"])
    c.ok(code == 0 and ("nameserver " + str(subnet[1])) in out and "dns.podman" in out,
         "resolv.conf points at the gateway with the search domain", out)
    code, out = c.exec_(client, ["cat", "/etc/hosts"])
    c.ok(code == 0 and ip_client in out, "hosts names the container by its address", out)
    r = c.call(client, T.CONTAINER, "Inspect")
    settings = json.loads(r.value[0]).get("NetworkSettings", {}) if r.error is None else {}
    c.ok(settings.get("IPAddress") == ip_client and settings.get("Network") == "tnet-a" + TAG
         and settings.get("Gateway") == str(subnet[1]),
         "Inspect shows the network settings", settings)
    return web, client


def test_published_ports(c, net_a):
    tcp_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
    pub, r = c.create("pub" + TAG, ["sh", "-c",
                                    "mkdir -p /www && echo published > /www/index.html && "
                                    "exec httpd -f -p 80 -h /www"],
                      {"Network": GLib.Variant("s", "tnet-a" + TAG),
                       "PublishPorts": GLib.Variant("a(sqqs)", [("127.0.0.1", tcp_port, 80, "tcp"),
                                                                ("", udp_port, 5353, "udp")])})
    r2 = c.start(pub) if pub else None
    if not c.ok(pub and r2.error is None, "a container publishing a tcp and a udp port starts",
                (r, r2)):
        return None, tcp_port
    c.ok(c.prop(pub, "Ports") == [("127.0.0.1", tcp_port, 80, "tcp"), ("", udp_port, 5353, "udp")],
         "its Ports property lists them")
    body = None

    def fetch():
        nonlocal body
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % tcp_port, timeout=5) as resp:
                body = resp.read().decode()
                return True
        except OSError as e:
            body = repr(e)
            return False

    c.ok(T.wait_until(fetch, timeout=60) and body.strip() == "published",
         "an HTTP request to 127.0.0.1:%d is answered from inside the container" % tcp_port, body)
    first = udp_received(c, pub)

    def udp_arrived():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"datagram\n", ("127.0.0.1", udp_port))
        now = udp_received(c, pub)
        return first is not None and now is not None and now > first

    c.ok(T.wait_until(udp_arrived, timeout=60, interval=0.5),
         "a UDP datagram to 127.0.0.1:%d reaches the container's network stack" % udp_port,
         (first, udp_received(c, pub)))
    return pub, tcp_port


def test_port_in_use(c, net_a, tcp_port):
    """A second container wanting the same host port, and one wanting a port
    a host process listens on: InUse, with nothing set up."""
    net = GLib.Variant("s", "tnet-a" + TAG)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host_port = listener.getsockname()[1]
    try:
        for desc, port in (("the port another container has", tcp_port),
                           ("a port a host process listens on", host_port)):
            path, r = c.create("clash%d-%s" % (port, TAG), ["sleep", "1000"],
                               {"Network": net,
                                "PublishPorts": GLib.Variant("a(sqqs)", [("", port, 80, "tcp")])})
            if not c.ok(path is not None, "a container publishing %s is created" % desc, r):
                continue
            before = c.host_state()
            r = c.start(path)
            c.ok(r.error == E["InUse"] and str(port) in (r.message or ""),
                 "starting it fails with InUse naming the port (%s)" % desc, r)
            c.ok(c.host_state() == before and c.prop(path, "IPAddress") == "",
                 "nothing was set up: no namespace, veth, rule or address", (before, c.host_state()))
            c.ok(c.prop(path, "State") in ("configured", "exited"), "it did not run",
                 c.prop(path, "State"))
            c.remove(path)
        # the host listener was not shadowed
        with socket.create_connection(("127.0.0.1", host_port), timeout=10) as conn:
            accepted, _ = listener.accept()
            accepted.close()
            c.ok(conn is not None, "the host listener still gets its connections")
    finally:
        listener.close()


def test_restart_keeps_addresses(c, web, client):
    ip_web, ip_client = c.prop(web, "IPAddress"), c.prop(client, "IPAddress")
    pid = c.prop(web, "Pid")
    c.daemon.proc.send_signal(signal.SIGKILL)
    c.daemon.proc.wait()
    c.daemon.proc = None
    c.daemon.start()
    c.bus = T.system_bus()
    c.ok(c.prop(web, "State") == "running" and c.prop(web, "Pid") == pid,
         "after a daemon SIGKILL and restart the server still runs")
    c.ok(c.prop(web, "IPAddress") == ip_web and c.prop(client, "IPAddress") == ip_client,
         "both keep their addresses (%s, %s)" % (ip_web, ip_client))
    other, r = c.create("third" + TAG, ["sleep", "1000"], {"Network": GLib.Variant("s",
                                                                                  "tnet-a" + TAG)})
    r2 = c.start(other) if other else r
    ip = c.prop(other, "IPAddress") if other else None
    c.ok(r2.error is None and ip and ip not in (ip_web, ip_client),
         "a new container gets an address nobody holds (%s)" % ip, r2)
    code, out = http_get(c, other, "web" + TAG)
    c.ok(code == 0 and "hello" in out, "and reaches the server by name across the restart", out)
    held = [a for _, a in c.addresses()]
    c.ok(sorted(held) == sorted(set(held)), "no address is held twice", held)
    return other


def leftovers_of(c, path, ip):
    """What of container @path is still on the host."""
    cid = c.prop(path, "Id")
    return {"netns": [n for n in c.netns_files() if cid in n],
            "firewall": firewall_lines([cid, ip + "/", ip + ":"]),
            "address": [a for i, a in c.addresses() if i == cid]}


def test_teardowns(c, net_a, client, other):
    """Stop, exit, removal and a dead conmon: nothing of the container stays."""
    empty = {"netns": [], "firewall": [], "address": []}
    bridge = "ctnt%sa" % TAG
    ports_before = len(bridge_ports(bridge) or [])
    ip = c.prop(client, "IPAddress")
    r = c.stop(client)
    c.ok(r.error is None and c.prop(client, "IPAddress") == "", "stop: the address goes", r)
    c.ok(leftovers_of(c, client, ip) == empty and len(bridge_ports(bridge) or []) == ports_before - 1,
         "stop: no namespace, rule, address or veth of it stays", leftovers_of(c, client, ip))

    quick, r = c.create("quick" + TAG, ["sh", "-c", "exit 3"],
                        {"Network": GLib.Variant("s", "tnet-a" + TAG)})
    r2 = c.start(quick) if quick else r
    r3 = c.call(quick, T.CONTAINER, "Wait") if quick else r
    c.ok(r2.error is None and r3.value == (3,) and c.wait_state(quick, ("exited",)),
         "exit: a container that exits by itself is cleaned up", (r2, r3))
    c.ok(leftovers_of(c, quick, "0.0.0.0") == empty and
         len(bridge_ports(bridge) or []) == ports_before - 1,
         "exit: nothing of it stays", leftovers_of(c, quick, "0.0.0.0"))

    # conmon dies first, then the container's process, so no exit file is
    # ever written; the daemon, killed too, finds both gone when it restarts
    ip = c.prop(other, "IPAddress")
    conmon = json.loads(c.call(other, T.CONTAINER, "Inspect").value[0])["State"]["ConmonPid"]
    pid = c.prop(other, "Pid")
    c.daemon.proc.send_signal(signal.SIGKILL)
    c.daemon.proc.wait()
    c.daemon.proc = None
    os.kill(conmon, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    T.wait_until(lambda: dead_or_zombie(conmon) and dead_or_zombie(pid))
    c.daemon.start()
    c.bus = T.system_bus()
    noticed = c.wait_state(other, ("exited",), timeout=60)
    c.ok(noticed and leftovers_of(c, other, ip) == empty,
         "conmon's death: the container is cleaned up, nothing of its network stays",
         (c.prop(other, "State"), leftovers_of(c, other, ip)))

    ip = c.prop(client, "IPAddress")
    r1 = c.start(client)
    ip = c.prop(client, "IPAddress")
    r2 = c.remove(client, force=True)
    c.ok(r1.error is None and r2.error is None and leftovers_of_id(c, ip) == [],
         "removal of a running container: nothing of its network stays", (r1, r2))
    for path in (quick, other):
        c.remove(path)


def dead_or_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def leftovers_of_id(c, ip):
    return firewall_lines([ip + "/", ip + ":"]) + [a for _, a in c.addresses() if a == ip]


def test_internal_and_default(c):
    path, r = c.create_network("tnet-i" + TAG, {"Subnet": GLib.Variant("s", str(c.subnets[40])),
                                                "Interface": GLib.Variant("s", "ctnt%si" % TAG),
                                                "Internal": GLib.Variant("b", True)})
    inner, r2 = c.create("inner" + TAG, ["sleep", "1000"],
                         {"Network": GLib.Variant("s", "tnet-i" + TAG)})
    r3 = c.start(inner) if inner else r2
    if c.ok(path and r3.error is None, "a container on an internal network runs", (r, r3)):
        code, out = c.exec_(inner, ["cat", "/proc/net/route"])
        c.ok(code == 0 and not any(line.split()[1:2] == ["00000000"]
                                   for line in out.splitlines()[1:]),
             "an internal network has no route out (no default route)", out)
        c.ok(c.prop(inner, "IPAddress") != "", "it has its address")
        c.remove(inner)
    # "bridge": the default network, made on first use from the pool
    dflt, r = c.create("dflt" + TAG, ["sleep", "1000"], {"Network": GLib.Variant("s", "bridge")})
    r2 = c.call(T.ROOT, T.MANAGER, "GetNetwork", V("s", "containersd"))
    if c.ok(dflt and r2.error is None, "Network=bridge makes the default network containersd",
            (r, r2)):
        net_path = r2.value[0]
        c.net.names.add("containersd")
        c.net.subnets.add(c.prop(net_path, "Subnet", NETWORK))
        c.net.bridges.add(c.prop(net_path, "Interface", NETWORK))
        subnet = ipaddress.ip_network(c.prop(net_path, "Subnet", NETWORK))
        c.ok(subnet.subnet_of(c.pool), "its subnet %s comes from the pool %s" % (subnet, c.pool))
        c.ok(c.prop(net_path, "DnsEnabled", NETWORK) is False,
             "it has no DNS server, as podman's default network")
        r = c.start(dflt)
        ip = c.prop(dflt, "IPAddress")
        c.ok(r.error is None and ipaddress.ip_address(ip) in subnet,
             "a container on it gets an address there (%s)" % ip, r)
        code, out = c.exec_(dflt, ["cat", "/etc/resolv.conf"])
        c.ok(code == 0 and "dns.podman" not in out and
             ("nameserver " + str(subnet[1])) not in out,
             "its resolv.conf names the host's servers, not the gateway", out)
        c.remove(dflt)


def test_host_mode(c):
    path, r = c.create("hostnet" + TAG, ["sleep", "1000"], {"Network": GLib.Variant("s", "host")})
    r2 = c.start(path) if path else r
    if not c.ok(path and r2.error is None, "root runs a container in the host's network "
                "namespace", (r, r2)):
        return
    ours = os.readlink("/proc/self/ns/net")
    theirs = os.readlink("/proc/%d/ns/net" % c.prop(path, "Pid"))
    c.ok(ours == theirs, "it shares the host's namespace", (ours, theirs))
    code, out = c.exec_(path, ["sh", "-c", "cat /etc/hostname /etc/hosts /etc/resolv.conf"])
    c.ok(code == 0 and c.prop(path, "Hostname") in out and "nameserver" in out,
         "it still gets hostname, hosts and resolv.conf", out)
    c.ok(c.prop(path, "Network") == "host" and c.prop(path, "IPAddress") == "",
         "Network says host; no IPAddress")
    c.remove(path)


def test_restart_republishes(c, pub, tcp_port):
    """A restart tears the network down and sets it up again: the port is
    reserved anew (conmon closed it at the exit) and answers again."""
    r = c.call(pub, T.CONTAINER, "Restart", V("u", 1))
    body = []

    def fetch():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % tcp_port, timeout=5) as resp:
                body[:] = [resp.read().decode()]
                return True
        except OSError as e:
            body[:] = [repr(e)]
            return False

    c.ok(r.error is None and c.prop(pub, "State") == "running" and c.prop(pub, "IPAddress") != ""
         and T.wait_until(fetch, timeout=60) and body[0].strip() == "published",
         "after a Restart the published port answers again", (r, body))


def test_network_remove(c, net_a, web, pub):
    r = c.call(net_a, NETWORK, "Remove", V("b", False))
    c.ok(r.error == E["InUse"], "Network.Remove while containers use it: InUse", r)
    c.ok(net_a in T.managed_objects(c.bus), "the network is still there")
    r = c.call(net_a, NETWORK, "Remove", V("b", True))
    objects = T.managed_objects(c.bus)
    c.ok(r.error is None and net_a not in objects, "Network.Remove with force removes it", r)
    for path in (web, pub):
        if path:
            c.ok(c.prop(path, "State") == "exited" and c.prop(path, "Network") == "none" and
                 c.prop(path, "IPAddress") == "" and c.prop(path, "Ports") == [],
                 "force stopped %s and moved it off the network" % c.prop(path, "Name"),
                 (c.prop(path, "State"), c.prop(path, "Network")))
            c.remove(path)
    c.ok("ctnt%sa" % TAG not in links(), "the bridge is gone with the last container")


def simulate_reboot(c):
    T.simulate_reboot(c.daemon, c.boot_id_path)


def test_reboot(c):
    path, r = c.create_network("tnet-r" + TAG, {"Subnet": GLib.Variant("s", str(c.subnets[50])),
                                                "Interface": GLib.Variant("s", "ctnt%sr" % TAG)})
    port = free_port()
    ctr, r2 = c.create("rebooted" + TAG, ["sleep", "1000"],
                       {"Network": GLib.Variant("s", "tnet-r" + TAG),
                        "PublishPorts": GLib.Variant("a(sqqs)", [("127.0.0.1", port, 80, "tcp")])})
    r3 = c.start(ctr) if ctr else r2
    if not c.ok(path and r3.error is None, "a container with a published port runs", (r, r3)):
        return
    c.ok(firewall_lines([str(c.subnets[50])]) != [], "its rules are there")
    c.ok(c.daemon.stop() == 0, "the daemon stops (the container runs on)")
    simulate_reboot(c)
    T.wait_until(lambda: bridge_ports("ctnt%sr" % TAG) in (None, []), timeout=30)
    c.daemon.start()
    c.bus = T.system_bus()
    c.ok(c.wait_state(ctr, ("exited",)), "after the reboot it is exited")
    # the old boot's leftovers go in the background; the address last
    c.ok(T.wait_until(lambda: c.prop(ctr, "IPAddress") == "" and c.addresses() == [],
                      timeout=60), "its address is freed", c.addresses())
    c.ok("ctnt%sr" % TAG not in links() and firewall_lines([str(c.subnets[50])]) == [] and
         c.addresses() == [], "the old boot's bridge, rules and address are gone",
         (links(), firewall_lines([str(c.subnets[50])]), c.addresses()))
    r = c.start(ctr)
    c.ok(r.error is None and c.prop(ctr, "IPAddress") != "", "it starts again on its network", r)
    c.remove(ctr)
    c.call(path, NETWORK, "Remove", V("b", True))


def ctl(*args):
    return T.run([os.path.join(T.BUILDDIR, "client", "containersctl")] + list(args))


def test_cli(c):
    """containersctl's network verbs and run's --network and -p."""
    name = "tnet-c" + TAG
    r = ctl("network", "create", "--subnet", str(c.subnets[60]), "--interface-name",
            "ctnt%sc" % TAG, "--label", "by=cli", name)
    if not c.ok(r.returncode == 0 and r.stdout.strip() == name, "containersctl network create",
                r.stdout):
        return
    c.net.names.add(name)
    c.net.subnets.add(str(c.subnets[60]))
    c.net.bridges.add("ctnt%sc" % TAG)
    r = ctl("network", "ls")
    c.ok(r.returncode == 0 and name in r.stdout and str(c.subnets[60]) in r.stdout,
         "containersctl network ls lists it", r.stdout)
    r = ctl("network", "inspect", name)
    inspected = json.loads(r.stdout) if r.returncode == 0 else [{}]
    c.ok(inspected[0].get("Subnet") == str(c.subnets[60]) and
         inspected[0].get("Labels") == {"by": "cli"}, "containersctl network inspect shows it",
         r.stdout)
    port = free_port()
    r = ctl("run", "-d", "--name", "cliweb" + TAG, "--network", name, "--network-alias",
            "site" + TAG, "-p", "127.0.0.1:%d:80" % port, "busybox", "sh", "-c",
            "mkdir -p /www && echo from-cli > /www/index.html && exec httpd -f -p 80 -h /www")
    body = []

    def fetch():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as resp:
                body[:] = [resp.read().decode()]
                return True
        except OSError as e:
            body[:] = [repr(e)]
            return False

    c.ok(r.returncode == 0 and T.wait_until(fetch, timeout=60) and body[0].strip() == "from-cli",
         "containersctl run -d --network -p publishes a web server on 127.0.0.1", (r.stdout, body))
    r = ctl("run", "--rm", "--network", name, "busybox", "nslookup", "site" + TAG)
    c.ok(r.returncode == 0 and str(c.subnets[60].network_address)[:-1] in r.stdout,
         "containersctl run --rm resolves the other by its alias", r.stdout)
    r = ctl("run", "--rm", "-p", "8080", "busybox", "true")
    c.ok(r.returncode != 0 and "HOST-PORT" in r.stdout, "a -p without a host port is refused",
         r.stdout)
    r = ctl("network", "rm", name)
    c.ok(r.returncode != 0, "containersctl network rm refuses a network in use", r.stdout)
    r = ctl("network", "rm", "-f", name)
    c.ok(r.returncode == 0, "containersctl network rm -f removes it", r.stdout)
    ctl("rm", "-f", "cliweb" + TAG)


def run_tests(tap, daemon, net):
    if not os.access(NETAVARK, os.X_OK):
        tap.skip("bridge networks", "netavark is not installed (%s)" % NETAVARK)
        return
    pool = free_pool()
    if pool is None:
        tap.bail("no /16 in 10.200-250 is free of host routes")
    daemon_config = daemon.config
    with open(daemon_config, "w") as f:
        f.write("[network]\nsubnet_pool=%s\ndns_forward=false\n" % pool)
    boot_id_path = os.path.join(daemon.tmp, "boot_id")
    with open(boot_id_path, "w") as f:
        f.write(os.urandom(16).hex())
    os.environ["CTRD_TEST_BOOT_ID_FILE"] = boot_id_path
    before = None
    daemon.start()
    bus = T.system_bus()
    c = Ctx(tap, daemon, bus, net)
    c.pool = pool
    c.boot_id_path = boot_id_path
    before = c.host_state()

    tar = os.path.join(daemon.tmp, "busybox.tar")
    T.make_busybox_tar(tar)
    r = c.call(T.ROOT, T.MANAGER, "ImportImageFromPath", V("ssa{sv}", tar, "busybox", {}))
    if not tap.ok(r.error is None, "busybox is imported", r):
        tap.bail("no image")

    net_a = test_create_network(c, pool)
    if net_a is None:
        tap.bail("no network")
    test_bad_input(c, net_a)
    web, client = test_two_containers(c, net_a)
    pub, tcp_port = test_published_ports(c, net_a)
    test_port_in_use(c, net_a, tcp_port)
    other = test_restart_keeps_addresses(c, web, client)
    test_teardowns(c, net_a, client, other)
    test_internal_and_default(c)
    test_host_mode(c)
    if pub:
        test_restart_republishes(c, pub, tcp_port)
    test_network_remove(c, net_a, web, pub)
    test_cli(c)
    test_reboot(c)

    after = c.host_state()
    tap.ok(after == before, "in the end nothing of the test's networks is left on the host",
           (before, after))
    network_dir = os.path.join(daemon.run_root, "network") + "/"
    c.ok(T.wait_until(lambda: not T.pids_mentioning(network_dir), timeout=30),
         "no aardvark-dns of the test runs on once its networks are gone",
         T.pids_mentioning(network_dir))


def cleanup_host(net):
    """Whatever a failed run left of the test's networks."""
    for bridge in net.bridges:
        if bridge and os.path.exists("/sys/class/net/" + bridge):
            T.run(["ip", "link", "del", bridge])
    for table in ("nat", "filter"):
        for line in T.run(["iptables", "-w", "-t", table, "-S"]).stdout.splitlines():
            if line.startswith("-A ") and any(n in line for n in net.needles()):
                T.run(["iptables", "-w", "-t", table] + ["-D"] + line.split()[1:])
        for chain in net.chains():
            T.run(["iptables", "-w", "-t", table, "-F", chain])
            T.run(["iptables", "-w", "-t", table, "-X", chain])


def main():
    tap = T.Tap()
    daemon = T.Daemon(tap)
    net = Net()
    T.run_test(tap, daemon, lambda: run_tests(tap, daemon, net), lambda: cleanup_host(net))


if __name__ == "__main__":
    main()
