#!/usr/bin/perl
# Third-party ESME (Debian libnet-smpp-perl) against our SmppListener.
# Usage: perl-esme.pl HOST PORT SYSTEM_ID PASSWORD ; prints one line per step.
use strict;
use warnings;
use Net::SMPP;
$| = 1;
my ($host, $port, $sys, $pw) = @ARGV;
my ($smpp, $resp) = Net::SMPP->new_transceiver($host, port => $port, system_id => $sys, password => $pw, timeout => 10);
die "connect failed\n" if !$smpp;
print "bind ", $resp->{status}, "\n";
exit 0 if $resp->{status};
my $sub = $smpp->submit_sm(source_addr => '1555', destination_addr => '2666', data_coding => 0,
  short_message => "\x00\x1b\x3c perl") or die "submit failed\n";
print "submit ", $sub->{status}, " ", $sub->{message_id}, "\n";
my $enq = $smpp->enquire_link() or die "enquire_link failed\n";
print "enquire_link ", $enq->{status}, "\n";
while (my $pdu = $smpp->read_pdu()) {
  if ($pdu->{cmd} == Net::SMPP::CMD_deliver_sm) {
    print "deliver ", unpack('H*', $pdu->{short_message}), "\n";
    $smpp->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
    last;
  }
  if ($pdu->{cmd} == Net::SMPP::CMD_enquire_link) { $smpp->enquire_link_resp(seq => $pdu->{seq}); }
}
my $unb = $smpp->unbind() or die "unbind failed\n";
print "unbind ", $unb->{status}, "\n";
