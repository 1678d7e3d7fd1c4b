// The lab's sinks (the outside MX hosts of doe.tld, smit.tld...) store every message in a
// maildir per recipient, <base>/<domain>/<local>/new/, through Postfix's pipe(8) and this one
// Perl program: one process per message, where a shell pipeline (tr, mkdir, date, cat, mv)
// cost eight and a tenth of the test suite's CPU (issue 11). Postfix's own virtual(8) would
// need a map per recipient: it refuses regexp substitutions in its maps.

/** A recipient's directory name: lower case; any character but a-z 0-9 . _ + = - and a leading dot become "_". */
export function sinkDirName(local: string): string {
  return local.toLowerCase().replace(/[^a-z0-9._+=-]/g, "_").replace(/^\./, "_");
}

/** The directory a sink stores `local@domain`'s messages in, under its maildir base. */
export function sinkMaildirNew(base: string, domain: string, local: string): string {
  return `${base}/${domain.toLowerCase()}/${sinkDirName(local)}/new`;
}

/** The store program (argv: maildir base, domain, local part); a failure defers (75), never bounces. */
export const SINK_STORE_PL = String.raw`#!/usr/bin/perl
# facteur lab sink: one file per message per recipient (src/lab/sink.ts).
use strict;
use warnings;
use Time::HiRes qw(gettimeofday);
my ($base, $domain, $local) = @ARGV;
exit 75 unless defined $local;
$domain = lc $domain;
($local = lc $local) =~ tr/a-z0-9._+=-/_/c;
$local =~ s/^\./_/;
my $dir = "$base/$domain/$local";
for my $d ("$base/$domain", $dir, "$dir/tmp", "$dir/new") {
  mkdir $d or $!{EEXIST} or exit 75;
}
my ($s, $us) = gettimeofday();
my $name = sprintf("%d.M%06dP%d.sink", $s, $us, $$);
open(my $out, ">", "$dir/tmp/$name") or exit 75;
binmode STDIN;
binmode $out;
while (1) {
  my $n = read(STDIN, my $buf, 65536);
  exit 75 unless defined $n;
  last if $n == 0;
  print {$out} $buf or exit 75;
}
close $out or exit 75;
rename("$dir/tmp/$name", "$dir/new/$name") or exit 75;
`;

/** When a stored message arrived, in seconds, from its file name (<seconds>.M<microseconds>P<pid>.sink); NaN for any other name. */
export function maildirArrival(name: string): number {
  const m = /^(\d+)\.M(\d{6})P\d+\./.exec(name.slice(name.lastIndexOf("/") + 1));
  return m ? Number(m[1]) + Number(m[2]) / 1e6 : NaN;
}

/** File names of stored messages in the order the messages arrived. */
export function byArrival(names: string[]): string[] {
  return [...names].sort((a, b) => maildirArrival(a) - maildirArrival(b) || (a < b ? -1 : a > b ? 1 : 0));
}
