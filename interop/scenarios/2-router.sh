# Scenario 2 — a v4-via-v6 router: two Linux namespaces with via6 between
# them; via6 has no IPv4 address; every next hop is an IPv6 link-local.
scenario router
netns A A
netns B B
tap TA a
tap TB b
node r1 "
[node]
name = \"r1\"
[sysctl]
\"net.inet.ip.forwarding\" = 1
\"net.inet6.ip6.forwarding\" = 1
[[interface]]
name = \"lo0\"
kind = \"loopback\"
addresses = []
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$TA\"
addresses = [\"fe80::1/64\"]
[[interface]]
name = \"tap1\"
kind = \"tap\"
device = \"$TB\"
addresses = [\"fe80::1/64\"]
[[route]]
dest = \"192.0.2.1/32\"
via = \"fe80::2%tap0\"
[[route]]
dest = \"2001:db8:a::1/128\"
via = \"fe80::2%tap0\"
[[route]]
dest = \"203.0.113.2/32\"
via = \"fe80::2%tap1\"
[[route]]
dest = \"2001:db8:b::1/128\"
via = \"fe80::2%tap1\"
"
give "$TA" "$A"
give "$TB" "$B"
for n in "$A" "$B"; do linux_defaults "$n"; done
in_ns "$A" ip addr add fe80::2/64 dev "$TA"
in_ns "$A" ip addr add 192.0.2.1/32 dev lo
in_ns "$A" ip -6 addr add 2001:db8:a::1/128 dev lo
in_ns "$A" ip route add 203.0.113.0/24 via inet6 fe80::1 dev "$TA"
in_ns "$A" ip -6 route add 2001:db8:b::/48 via fe80::1 dev "$TA"
in_ns "$B" ip addr add fe80::2/64 dev "$TB"
in_ns "$B" ip addr add 203.0.113.2/32 dev lo
in_ns "$B" ip -6 addr add 2001:db8:b::1/128 dev lo
in_ns "$B" ip route add 192.0.2.0/24 via inet6 fe80::1 dev "$TB"
# B learns its IPv6 default route from via6's router advertisements.
in_ns "$B" sysctl -qw "net.ipv6.conf.$TB.accept_ra=2"
v r1 ip6addrctl >/dev/null
sleep 2

check "IPv4 ping across the v4-via-v6 router" in_ns "$A" ping -c 2 -W 2 203.0.113.2
check "IPv6 ping across the router" in_ns "$A" ping -6 -c 2 -W 2 2001:db8:b::1
expect "B learnt a default route from via6's RA" 'default via fe80::[0-9a-f:]+ dev .* proto ra' in_ns "$B" ip -6 route show default
check "B reaches A over the RA-learnt default route" in_ns "$B" ping -6 -c 1 -W 2 2001:db8:a::1
expect "traceroute -n shows 192.0.0.8 for via6's hop" '^ 1  192\.0\.0\.8 ' in_ns "$A" traceroute -n -q 1 -w 2 -N 1 203.0.113.2
expect "traceroute reaches the destination at hop 2" '^ 2  203\.0\.113\.2 ' in_ns "$A" traceroute -n -q 1 -w 2 -N 1 203.0.113.2
v r1 ifconfig lo0 inet 198.18.0.1/32 alias >/dev/null
expect "with an lo0 address, traceroute shows it" '^ 1  198\.18\.0\.1 ' in_ns "$A" traceroute -n -q 1 -w 2 -N 1 203.0.113.2
v r1 ifconfig lo0 inet 198.18.0.1 -alias >/dev/null
v r1 sysctl net.inet.icmp.ext_ifinfo=1 >/dev/null
# Linux traceroute decodes only MPLS objects and dumps others as
# CLASS/CTYPE:hex — decode ours: class 2 (RFC 5837), c-type 11 = incoming
# interface + ifIndex + name + MTU; ifIndex 2, name "tap0", MTU 1500 (no IP
# address sub-object: the interface has no IPv4 address).
expect "traceroute -e shows via6's RFC 5837 object (ifIndex 2, \"tap0\", MTU 1500)" '192\.0\.0\.8 <2/11:00000002,08746170,30000000,000005dc>' in_ns "$A" traceroute -e -n -q 1 -w 2 -N 1 203.0.113.2
v r1 sysctl net.inet.icmp.ext_ifinfo=0 >/dev/null
expect "IPv6 traceroute: hop 1 answers hop-limit exceeded from a link-local" '^ 1  fe80::' in_ns "$A" traceroute -6 -n -q 1 -w 2 -N 1 2001:db8:b::1
v r1 ifconfig tap1 mtu 1280 >/dev/null
expect "ping -M do -s 1400 gets fragmentation needed, mtu 1280, from 192.0.0.8" 'From 192\.0\.0\.8 .*[Ff]rag needed and DF set \(mtu = 1280\)' \
    in_ns "$A" ping -M do -s 1400 -c 1 -W 2 203.0.113.2
expect "tracepath finds the path MTU 1280" 'pmtu 1280' in_ns "$A" tracepath -n 203.0.113.2
expect "IPv6 ping -s 1400 gets Packet Too Big, mtu 1280" '[Pp]acket too big.*mtu ?= ?1280' in_ns "$A" ping -6 -s 1400 -c 1 -W 2 2001:db8:b::1
in_ns "$B" iperf3 -s -1 -B 203.0.113.2 -D --logfile "$DIR/iperf3-server.log"
sleep 0.5
expect "an iperf3 TCP run through via6 completes (PMTU 1280 learnt from 192.0.0.8)" 'receiver' in_ns "$A" iperf3 -c 203.0.113.2 -n 8M -f m
expect "via6 counted what it forwarded" 'packets forwarded' v r1 netstat -s
end_scenario
