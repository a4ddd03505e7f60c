# Scenario 3 — IPv6: ndisc6/rdisc6 against via6, via6 as a SLAAC host of radvd.
scenario ipv6
netns L L
tap T s
node h "
[node]
name = \"h\"
[sysctl]
\"net.inet6.ip6.accept_rtadv\" = 1
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$T\"
mac = \"02:00:00:00:00:22\"
addresses = []
"
give "$T" "$L"
in_ns "$L" sysctl -qw net.ipv6.conf.all.forwarding=1
in_ns "$L" ip -6 addr add 2001:db8:5::1/64 dev "$T"
cat > "$DIR/radvd.conf" <<RADVD
interface $T {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvLinkMTU 1400;
    prefix 2001:db8:5::/64 { AdvOnLink on; AdvAutonomous on; };
};
RADVD
in_ns "$L" radvd -C "$DIR/radvd.conf" -p "$DIR/radvd.pid" -m logfile -l "$DIR/radvd.log"
sleep 6
expect "ndisc6 resolves via6's link-local (NS/NA)" 'Target link-layer address: 02:00:00:00:00:22' \
    in_ns "$L" ndisc6 -1 -r 2 fe80::ff:fe00:22 "$T"
expect "via6 formed a SLAAC address from radvd's prefix (EUI-64, autoconf)" 'inet6 2001:db8:5::ff:fe00:22 prefixlen 64 autoconf' v h ifconfig tap0
expect "via6 learnt the default route from the RA" 'default +fe80::[0-9a-f:]+%tap0 +UG' v h netstat -rn -f inet6
expect "via6 took the RA's MTU option" '"mtu":1400' v h route get --json 2001:db8:5::1
check "Linux pings via6's SLAAC address" in_ns "$L" ping -6 -c 2 -W 2 2001:db8:5::ff:fe00:22
end_scenario

scenario ipv6-router
netns L L
tap T r
node r "
[node]
name = \"r\"
[sysctl]
\"net.inet6.ip6.forwarding\" = 1
[[interface]]
name = \"tap0\"
kind = \"tap\"
device = \"$T\"
addresses = [\"2001:db8:7::1/64\"]
"
give "$T" "$L"
in_ns "$L" sysctl -qw "net.ipv6.conf.$T.accept_ra=2"
sleep 2
expect "rdisc6 gets a router advertisement from via6" 'Router lifetime +: +1800' in_ns "$L" rdisc6 -1 -r 3 "$T"
expect "Linux formed an address in via6's advertised prefix" 'inet6 2001:db8:7:' in_ns "$L" ip -6 addr show dev "$T"
check "Linux reaches via6's global address" in_ns "$L" ping -6 -c 1 -W 2 2001:db8:7::1
end_scenario
