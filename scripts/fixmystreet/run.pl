#!/usr/bin/perl
# Drives chuangwen's /open311/v2/ with FixMyStreet's own Open311.pm,
# unmodified; only the FixMyStreet objects it reads are stood in for.
use strict; use warnings; use utf8;
use lib 'lib';
use Open311;
use Path::Tiny;
use Encode ();
binmode STDOUT, ':utf8';

my ($endpoint, $key, $service, $other_key) = @ARGV;

package Mock { sub new { my ($c, %a) = @_; bless {%a}, $c } our $AUTOLOAD;
  sub AUTOLOAD { my $s = shift; (my $n = $AUTOLOAD) =~ s/.*:://; return if $n eq 'DESTROY'; my $v = $s->{$n}; return ref $v eq 'CODE' ? $v->($s, @_) : $v } }
package FixMyStreet::DB::Result::Body { our @ISA = ('Mock') }
package FixMyStreet::DB::Result::Problem { our @ISA = ('Mock'); sub fixed_states { { 'fixed - council' => 1, fixed => 1 } } sub open_states { { confirmed => 1 } } }
package FixMyStreet::DB::Result::Comment { our @ISA = ('Mock') }
package main;

my $cobrand = Mock->new(call_hook => sub { undef }, base_url => 'https://fms.example');
my $body = FixMyStreet::DB::Result::Body->new(get_cobrand_handler => undef);
my $jpeg = path($ENV{PHOTO} // '../../internal/imaging/testdata/ref-gray.jpg')->slurp_raw;
my $photoset = Mock->new(all_ids => sub { ('a.jpeg', 'b.jpeg') },
  get_image_data => sub { { content_type => 'image/jpeg', data => $jpeg } });

sub problem { my (%o) = @_; FixMyStreet::DB::Result::Problem->new(
  id => 4711, title => '垃圾满溢', detail => $o{detail} // '幸福路口垃圾满溢，无人清运。', name => $o{name} // 'Test User',
  phone_waste => undef, user => Mock->new(email => 'test@example.org', phone => undef, name => 'Test User'),
  used_map => 1, latitude => 24.991492, longitude => 102.743499, postcode => '', service => 'iPhone',
  get_extra_fields => sub { [ { name => 'uprn_extra', value => '100023' }, { name => 'fms_extra_title', value => 'MR' } ] },
  uprn => '100023', cobrand => 'fixmystreet', bodies => {}, photo => 1, non_public => 0,
  get_photoset => sub { $photoset }, get_extra_metadata => undef, get_cobrand_logged => $cobrand, send_fail_count => 0,
  %{ $o{extra} // {} }) }

sub show { my ($what, $o) = @_; print "$what: ", ($o->success ? "ok" : "FAILED ".$o->error), "\n" }

# 1. The service list and a definition.
my $o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body);
my $list = $o->get_service_list; show('services', $o);
printf "  %d services, first %s %s\n", scalar @{ $list->{service} }, $list->{service}[0]{service_code}, $list->{service}[0]{service_name};
my $def = $o->get_service_meta_info($service); show("definition $service", $o);

# 2. A long report: extended description (title, detail, URL, CR LF), two photo links.
my $long = '幸福路口垃圾满溢，无人清运。' x 270;
my $p = problem(detail => $long);
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body, multi_photos => 1);
my $id1 = $o->send_service_request($p, { url => 'https://fms.example/report/4711', image_url => 'https://fms.example/p/1.jpeg',
  all_image_urls => ['https://fms.example/p/1.jpeg', 'https://fms.example/p/2.jpeg'] }, $service);
show('send (long, multi_photos, extra fields)', $o); print "  id $id1\n";

# 3. Photo files (upload_files, always_upload_photos), a Chinese name.
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body, upload_files => 1, always_upload_photos => 1);
my $id2 = $o->send_service_request(problem(name => '王 小明'), { url => 'https://fms.example/report/4712' }, $service);
show('send (photo files)', $o); print "  id $id2\n";

# 4. Not pinpointed: an address only.
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body, always_send_latlong => 0);
my $id3 = $o->send_service_request(problem(extra => { used_map => 0, postcode => Encode::decode('UTF-8', $ENV{ADDRESS} // '某某路88号') }), { url => 'https://fms.example/report/4713' }, $service);
show('send (address only)', $o); print "  id $id3\n";

# 5. Status of every open report in one list (Open311::GetUpdates).
my @ids = ((map { sprintf '2025-%06d', $_ } 1 .. 1500), $id1, $id2, $id3);
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body);
my $reqs = $o->get_service_requests({ report_ids => \@ids }); show('requests by 1,503 ids', $o);
for my $r (@{ $reqs // [] }) { printf "  %s %s -> %s, media %s\n", $r->{service_request_id}, $r->{status}, $o->map_state($r->{status}), ref $r->{media_url} ? '-' : $r->{media_url} // '-' }

# 6. Fetch reports back (Open311::GetServiceRequests' last hour).
use DateTime; use DateTime::Format::W3CDTF;
my $now = DateTime->now; my $f = DateTime::Format::W3CDTF->new;
$reqs = $o->get_service_requests({ start_date => $f->format_datetime($now->clone->add(hours => -1)), end_date => $f->format_datetime($now) });
show('requests of the last hour', $o); printf "  %d requests\n", scalar @{ $reqs // [] };

# 7. The updates feed (Open311::GetServiceRequestUpdates' last two hours, or a given window).
my $from = $ENV{UPDATES_FROM} ? DateTime::Format::W3CDTF->parse_datetime($ENV{UPDATES_FROM}) : $now->clone->add(hours => -2);
my $ups = $o->get_service_request_updates($f->format_datetime($from), $f->format_datetime($now));
show('servicerequestupdates', $o); printf "  %d updates\n", scalar @{ $ups // [] };
for my $u (@{ $ups // [] }[0 .. 4]) { next unless $u; printf "  %s %s %s -> %s: %s\n", $u->{update_id}, $u->{service_request_id}, $u->{status}, $o->map_state($u->{status}), $u->{description} }

# 8. Post a comment (Open311::PostServiceRequestUpdates), twice, then a photo file, then with another key.
my $comment = FixMyStreet::DB::Result::Comment->new(id => time(), name => 'Test User', user => Mock->new(name => 'Test User', email => 'test@example.org', phone => undef),
  problem_state => 'confirmed', problem => Mock->new(external_id => $id1, state => 'confirmed', get_extra_metadata => undef, cobrand_data => '', non_public => 0),
  confirmed => DateTime->now, text => "还是很脏\r\n请再处理", mark_open => 0, photo => 0, photos => [], extra => undef,
  get_extra_metadata => sub { {} }, get_cobrand_logged => $cobrand, cobrand_data => '', send_fail_count => 0);
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body, extended_statuses => 1);
my $u1 = $o->post_service_request_update($comment); show('post update', $o);
my $u2 = $o->post_service_request_update($comment); show('post update again', $o); print "  ids $u1 $u2\n";
my $with_photo = FixMyStreet::DB::Result::Comment->new(%$comment, id => time() + 1, photo => 1, photos => [{ url_full => '/photo/c/89.0.full.jpeg' }], get_photoset => sub { $photoset });
$o = Open311->new(endpoint => $endpoint, api_key => $key, fixmystreet_body => $body, upload_files_for_updates => 1, always_upload_photos => 1);
my $u3 = $o->post_service_request_update($with_photo); show('post update with a photo file', $o); print "  id $u3\n";
$o = Open311->new(endpoint => $endpoint, api_key => $other_key, fixmystreet_body => $body);
$o->post_service_request_update(FixMyStreet::DB::Result::Comment->new(%$comment, id => time() + 2)); show('post update with another client\'s key (should fail)', $o);
