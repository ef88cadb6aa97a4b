/* Placeholder: the schema generator. */
int main(void) { return 0; }
