print("boxwalk-helper placeholder")
