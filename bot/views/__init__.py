"""Pure Block Kit builders: functions of the models, no I/O."""
