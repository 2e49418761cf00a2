/* hello: the smallest kernel: one line on COM1, then exit 0 (status 1). */
#include "libc.h"

int main(void)
{
    puts("Hello from a tcg86 guest kernel");
    return 0;
}
