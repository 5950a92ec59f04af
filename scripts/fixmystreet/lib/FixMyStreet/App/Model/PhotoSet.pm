package FixMyStreet::App::Model::PhotoSet; sub new { bless $_[1], $_[0] } sub data { 'photos' } 1;
