#ifndef BOXWALK_CSHIM_H
#define BOXWALK_CSHIM_H
int bw_placeholder(void);
#endif
