int bw_placeholder(void) { return 0; }
