#!/usr/bin/env python3
"""A recipient list of N students, a third with a guardian, with non-ASCII names mixed in."""
import sys

count = int(sys.argv[1])
names = ["Ada", "Zoë", "山田", "Séan", "María", "Omar", "Ελένη", "Li"]
print("email,first_name,last_name,guardian_name,guardian_email,grade")
for index in range(count):
    first = names[index % len(names)]
    guardian = f"Parent {index},parent{index}@example.net" if index % 3 == 0 else ","
    print(f"student{index}@example.org,{first},Student{index},{guardian},{9 + index % 4}")
