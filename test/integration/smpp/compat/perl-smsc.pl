#!/usr/bin/perl
# Third-party SMSC (Debian libnet-smpp-perl) for our ClientSession: one connection, then exits.
# Prints "port N" first, then one line per PDU it handles.
use strict;
use warnings;
use Net::SMPP;
$| = 1;
my $listener = Net::SMPP->new_listen('127.0.0.1', port => 0, timeout => 20) or die "listen failed: $!\n";
print "port ", $listener->sockport, "\n";
my $smpp = $listener->accept() or die "accept failed\n";
my $delivered = 0;
while (my $pdu = $smpp->read_pdu()) {
  my $cmd = $pdu->{cmd};
  if ($cmd == Net::SMPP::CMD_bind_transceiver) {
    my $ok = $pdu->{password} eq 'secret';
    print "bind $pdu->{system_id} ", ($ok ? 'ok' : 'refused'), "\n";
    $smpp->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'perlsmsc', status => ($ok ? 0 : 0x0E));
  } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
    print "submit dc=$pdu->{data_coding} esm=$pdu->{esm_class} ", unpack('H*', $pdu->{short_message}), "\n";
    $smpp->submit_sm_resp(seq => $pdu->{seq}, message_id => "perl-$pdu->{seq}");
    if (!$delivered++) {
      $smpp->deliver_sm(source_addr => '2666', destination_addr => '1555', data_coding => 0,
        short_message => "\x00\x1b\x65 mo", async => 1);
    }
  } elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
    print "deliver_resp $pdu->{status}\n";
  } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
    print "enquire_link\n";
    $smpp->enquire_link_resp(seq => $pdu->{seq});
  } elsif ($cmd == Net::SMPP::CMD_unbind) {
    print "unbind\n";
    $smpp->unbind_resp(seq => $pdu->{seq});
    last;
  }
}
