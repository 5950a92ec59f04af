package FixMyStreet;
sub config { my ($c, $k) = @_; return { DO_NOT_REPLY_EMAIL => 'noreply@example.org', O311_POLLING_INTERVAL => 0 }->{$k} }
sub test_mode { 1 }
sub path_to { '/tmp' }
1;
