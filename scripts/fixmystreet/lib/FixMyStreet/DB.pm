package FixMyStreet::DB; 1;
