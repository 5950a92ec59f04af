package Utils; sub truncate_coordinate { sprintf('%.6f', $_[0]) + 0 } 1;
