package wizard

import "context"

func t0ctx() context.Context { return context.Background() }
