// A typed notice one domain gives and the domains built after it listen to, so a call
// between two domains runs one way: the earlier domain emits, the later one subscribes
// at construction. Listeners run synchronously, in subscription order (the assembly
// order), inside whatever the emitter is doing: a listener that throws fails the
// emitter's operation (a publish's transaction rolls back), as a direct call would.
export class Signal<T> {
  private readonly listeners: ((value: T) => void)[] = [];

  on(listener: (value: T) => void): void {
    this.listeners.push(listener);
  }

  emit(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
}
