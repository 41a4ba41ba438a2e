"""Source of the packaged seed tasks, written for this course. `python tools/seed_source.py` writes
alpaca_course/resources/seed_tasks.jsonl. Fields: name, type, is_classification, instruction, input, output."""

import json
from pathlib import Path

C, N = True, False
TASKS = [
    # brainstorming
    ("bakery_names", "brainstorming", N, "Suggest three names for a small bakery that only sells bread.", "", "1. The Daily Crust\n2. Rise & Knead\n3. Flour Hour"),
    ("rainy_day_kids", "brainstorming", N, "List four indoor activities for children on a rainy afternoon.", "", "Build a blanket fort, bake simple cookies, put on a puppet show, and do a treasure hunt around the house."),
    ("garden_uses", "brainstorming", N, "Give five uses for an empty glass jar.", "", "A pencil holder, a herb pot, a candle lantern, a spice container and a piggy bank."),
    ("team_event_ideas", "brainstorming", N, "Propose three low-cost ideas for a team-building afternoon at the office.", "", "A quiz with mixed teams, a potluck lunch where each person brings a family recipe, and a short volunteering trip to a local park clean-up."),
    ("podcast_topics", "brainstorming", N, "Come up with three episode ideas for a podcast about everyday science.", "", "Why bread rises, how noise-cancelling headphones work, and what makes ice slippery."),
    ("fundraiser_ideas", "brainstorming", N, "Suggest ways a school choir could raise money for a trip.", "The choir has 30 members and needs about 2,000 dollars.", "Hold a paid concert, sell baked goods at the interval, run a sponsored sing-a-thon, and offer to sing at local events for a fee."),
    ("app_features", "brainstorming", N, "Brainstorm features for a mobile app that helps people drink enough water.", "", "Gentle reminders, a daily goal based on weight and weather, a log with one-tap entries, and streaks to keep people motivated."),
    # classification
    ("sentiment_review", "sentiment", C, "Decide whether the review is positive, negative or neutral.", "The pasta arrived cold and the waiter ignored us for twenty minutes.", "Negative"),
    ('sentiment_tweet', 'sentiment', C, "Classify the mood of the message 'Finally passed my driving test after three tries!' as happy, sad or angry.", '', 'Happy'),
    ("sentiment_mixed", "sentiment", C, "Is the opinion in the sentence positive or negative?", "The phone is pricey, but the camera is worth every cent.", "Positive"),
    ("spam_detect", "classification", C, "Label the email as spam or not spam.", "Congratulations! You have been selected to receive a free cruise. Click here to claim before midnight.", "Spam"),
    ("animal_class", "classification", C, "Say whether each animal is a mammal, bird, reptile or fish.", "dolphin, penguin, gecko, salmon", "dolphin: mammal\npenguin: bird\ngecko: reptile\nsalmon: fish"),
    ("fruit_or_veg", "classification", C, "Tell me if a tomato is classified as a fruit or a vegetable in botany.", "", "In botany a tomato is a fruit, because it develops from the flower and contains seeds."),
    ('question_type', 'classification', C, "Is 'Please close the window before you leave.' a question, a command or a statement?", '', 'Command'),
    ("topic_label", "classification", C, "Assign the headline to one of these sections: sport, politics, technology, health.", "New chip doubles battery life of laptops", "Technology"),
    ('formal_informal', 'classification', C, "Is the sentence 'Hey, wanna grab a bite later?' formal or informal?", '', 'Informal'),
    ("even_odd", "classification", C, "Sort the numbers into even and odd.", "7, 12, 33, 40, 51", "Even: 12, 40\nOdd: 7, 33, 51"),
    ('fact_opinion', 'fact-checking', C, "Is 'Chocolate ice cream is the best flavour' a fact or an opinion?", '', 'Opinion'),
    ("fact_true_false", "fact-checking", C, "Answer true or false: water boils at a lower temperature on a high mountain.", "", "True. Air pressure is lower at altitude, so water boils below 100 degrees Celsius."),
    ("claim_check", "fact-checking", C, "Is the claim correct? Answer yes or no and give the reason.", "The Great Wall of China is visible from the Moon with the naked eye.", "No. From the Moon the wall is far too narrow to see without magnification."),
    ('language_id', 'classification', C, "Which language is the sentence 'Je voudrais un café, s'il vous plaît.' written in?", '', 'French'),
    ("part_of_speech", "classification", C, "Give the part of speech of the underlined word, shown in capitals.", "She QUICKLY finished her homework.", "Adverb"),
    ('urgency_ticket', 'classification', C, 'Rate the urgency of a support ticket that says the whole online shop is down and customers cannot pay: low, medium or high?', '', 'High'),
    ("genre_guess", "classification", C, "Guess the genre of the book from its blurb: mystery, romance, science fiction or fantasy.", "When the ship's computer wakes her from cryosleep, Ada learns the crew has vanished and the stars are in the wrong places.", "Science fiction"),
    ("safe_unsafe", "classification", C, "Is it safe to store the two chemicals together? Answer safe or unsafe.", "bleach and ammonia-based glass cleaner", "Unsafe. Mixed, they release toxic chloramine gas."),
    ("polarity_pairs", "sentiment", C, "For each word, say whether it usually carries a positive or negative feeling.", "cozy, grim, radiant, stale", "cozy: positive\ngrim: negative\nradiant: positive\nstale: negative"),
    # rewriting / editing
    ("simplify_sentence", "rewriting", N, "Rewrite the sentence so a ten-year-old can understand it.", "The municipality has implemented measures to mitigate traffic congestion.", "The town has made new rules so there are fewer traffic jams."),
    ("passive_to_active", "rewriting", N, "Change the sentence from passive to active voice.", "The cake was eaten by the twins.", "The twins ate the cake."),
    ("more_polite", "rewriting", N, "Make this request sound more polite.", "Send me the report now.", "Could you please send me the report when you have a moment?"),
    ("formal_rewrite", "rewriting", N, "Rewrite the message in a formal tone.", "Can't make it tomorrow, sorry, something came up.", "I regret that I will be unable to attend tomorrow owing to an unexpected commitment."),
    ("shorten_text", "rewriting", N, "Shorten the sentence without losing its meaning.", "In spite of the fact that it was raining heavily, we decided that we would still go for a walk.", "Despite the heavy rain, we still went for a walk."),
    ("positive_reframe", "rewriting", N, "Rephrase the feedback so it sounds encouraging.", "Your essay is messy and hard to follow.", "Your essay has good ideas; organising them into clearer paragraphs will make them shine."),
    ("third_person", "rewriting", N, "Rewrite the paragraph in the third person.", "I woke up early and I made breakfast for my family.", "She woke up early and made breakfast for her family."),
    ("grammar_fix", "editing", N, "Correct the grammar mistakes in the sentence.", "Me and him goes to the market every sundays.", "He and I go to the market every Sunday."),
    ("spelling_fix", "editing", N, "Find and fix the spelling mistakes.", "I recieved a seperate packege this mornning.", "I received a separate package this morning."),
    ("punctuate", "editing", N, "Add the missing punctuation to the text.", "lets eat grandma said the boy", "\"Let's eat, Grandma,\" said the boy."),
    ("remove_jargon", "editing", N, "Remove the business jargon from this sentence.", "Let's circle back and leverage our synergies to move the needle.", "Let's talk again later and work together to make real progress."),
    ("tense_change", "editing", N, "Put the sentence into the past tense.", "The children run to the playground and climb the tall slide.", "The children ran to the playground and climbed the tall slide."),
    # summarization
    ("summarize_paragraph", "summarization", N, "Summarize the paragraph in one sentence.", "Bees visit flowers to collect nectar. While they do so, pollen sticks to their bodies and is carried to the next flower. This transfer lets plants make seeds, which is why many crops depend on bees.", "Bees carry pollen between flowers while gathering nectar, which lets many plants, including crops, produce seeds."),
    ("headline_writer", "summarization", N, "Write a short headline for the news story.", "After six months of repairs, the city's oldest bridge reopened on Monday to cars and cyclists, cutting commute times for thousands.", "Historic Bridge Reopens, Shortening Commutes"),
    ("meeting_notes", "summarization", N, "Turn the meeting notes into three bullet-point action items.", "Anna will book the venue. We agreed the budget is 500 euros. Tom needs to email the speakers by Friday. Everyone reviews the draft agenda.", "- Anna books the venue.\n- Tom emails the speakers by Friday.\n- Everyone reviews the draft agenda."),
    ("tldr", "summarization", N, "Give a TL;DR of the text.", "I tried three different running apps this month. The first crashed often, the second was full of ads, but the third was simple, free and synced with my watch, so I'm keeping it.", "Tried three running apps; kept the simple, free one that syncs with my watch."),
    ("key_points", "summarization", N, "What are the two main points of this passage?", "Sleep helps the brain store memories. It also clears waste products that build up while we are awake. Missing sleep harms both.", "Sleep helps store memories, and it clears waste from the brain."),
    ("abstract_to_plain", "summarization", N, "Explain the finding of this study abstract in plain words.", "Participants who walked for 20 minutes daily reported a 15 percent improvement in mood scores compared with a control group over eight weeks.", "People who walked 20 minutes a day felt noticeably happier after two months than people who did not."),
    # explanation
    ("sky_blue", "explanation", N, "Explain why the sky looks blue during the day.", "", "Sunlight is scattered by air molecules, and shorter blue wavelengths scatter much more than red ones, so blue light reaches our eyes from every direction."),
    ("why_seasons", "explanation", N, "Why does Earth have seasons?", "", "Earth's axis is tilted, so over the year each hemisphere leans toward or away from the Sun, changing how direct and how long the sunlight is."),
    ("explain_interest", "explanation", N, "Explain compound interest to a teenager.", "", "Compound interest means you earn interest on your interest. Save 100 dollars at 10 percent and you have 110 after a year, then 121 after two, because the extra 10 also earns money."),
    ("how_vaccines", "explanation", N, "Describe how vaccines help the body fight disease.", "", "A vaccine shows the immune system a harmless piece or copy of a germ, so it learns to recognise it and can react quickly if the real germ appears."),
    ('explain_idiom', 'explanation', N, "Explain what the idiom 'to let the cat out of the bag' means.", '', 'To reveal a secret, usually by accident.'),
    ("explain_code", "explanation", N, "Explain what this Python line does.", "squares = [n * n for n in range(5)]", "It builds a list of the squares of 0 to 4, so squares becomes [0, 1, 4, 9, 16]."),
    ("ice_floats", "explanation", N, "Why does ice float on water?", "", "Water expands when it freezes, so ice is less dense than liquid water and floats."),
    ("explain_inflation", "explanation", N, "In two sentences, explain what inflation is.", "", "Inflation is a general rise in prices over time. It means the same amount of money buys less than before."),
    ('explain_error', 'explanation', N, "What does the Python error 'ZeroDivisionError: division by zero' mean, and how can it be fixed?", '', 'The program tried to divide a number by zero. Check the divisor before dividing, or handle the case where it is zero.'),
    # math
    ('percent_calc', 'math', N, 'A jacket costs 80 dollars and is 25 percent off. What is the new price?', '', '25 percent of 80 is 20, so the jacket costs 60 dollars.'),
    ("unit_speed", "math", N, "How long does it take to travel 150 kilometres at 60 kilometres per hour?", "", "150 / 60 = 2.5 hours, or 2 hours and 30 minutes."),
    ('solve_equation', 'math', N, 'Solve the equation 3x + 7 = 22 for x.', '', '3x = 15, so x = 5.'),
    ('average_scores', 'math', N, 'Find the average of the test scores 72, 85, 90 and 63.', '', 'The sum is 310, and 310 / 4 = 77.5.'),
    ("area_circle", "math", N, "What is the area of a circle with a radius of 3 centimetres? Round to one decimal place.", "", "Area = pi x 3^2 = 28.3 square centimetres."),
    ("word_problem_apples", "math", N, "Solve the word problem.", "Maya has 3 bags with 8 apples each. She gives away 5 apples. How many does she have left?", "3 x 8 = 24 apples, and 24 - 5 = 19 apples left."),
    ('fraction_add', 'math', N, 'Add the fractions 1/4 and 2/3 and simplify the result.', '', '3/12 + 8/12 = 11/12.'),
    ("prime_check", "math", C, "Is 91 a prime number?", "", "No. 91 = 7 x 13."),
    ('tip_split', 'math', N, 'Four friends share a 90-dollar bill and add a 10 percent tip. How much does each pay?', '', 'With the tip the total is 99 dollars, so each pays 24.75 dollars.'),
    # coding
    ("reverse_string", "coding", N, "Write a Python function that reverses a string.", "", "def reverse(text):\n    return text[::-1]"),
    ("fizzbuzz_like", "coding", N, "Write a loop in Python that prints the numbers 1 to 10 and says whether each is even.", "", "for n in range(1, 11):\n    print(n, 'even' if n % 2 == 0 else 'odd')"),
    ("sql_query", "coding", N, "Write an SQL query that returns all customers from Canada.", "Table: customers(id, name, country)", "SELECT id, name FROM customers WHERE country = 'Canada';"),
    ("find_bug", "coding", N, "Find the bug in the function.", "def average(xs):\n    return sum(xs) / len(xs) + 1", "The function adds 1 to the result. It should be `return sum(xs) / len(xs)`."),
    ("regex_email", "coding", N, "Give a simple regular expression that matches an email address.", "", "[^@\\s]+@[^@\\s]+\\.[a-zA-Z]+"),
    ("js_to_python", "coding", N, "Translate the JavaScript code into Python.", "const total = prices.reduce((a, b) => a + b, 0);", "total = sum(prices)"),
    ("complexity", "coding", N, "What is the time complexity of looking up a key in a Python dictionary?", "", "On average O(1), because dictionaries are hash tables; the worst case is O(n)."),
    ("count_words_fn", "coding", N, "Write a Python function that counts how often each word appears in a sentence.", "", "from collections import Counter\n\ndef word_counts(sentence):\n    return Counter(sentence.lower().split())"),
    # extraction
    ("extract_dates", "extraction", N, "Extract every date mentioned in the text.", "The contract starts on 3 March 2024 and ends on 28 February 2025, with a review on 1 September 2024.", "3 March 2024, 1 September 2024, 28 February 2025"),
    ("extract_names", "extraction", N, "List the people named in the passage.", "At the meeting, Priya presented the budget, while Kwame and Elena asked about hiring.", "Priya, Kwame, Elena"),
    ("extract_ingredients", "extraction", N, "Pull out the ingredients from the recipe text.", "Whisk two eggs with a cup of milk, add a pinch of salt, then stir in flour until smooth.", "eggs, milk, salt, flour"),
    ("extract_numbers", "extraction", N, "Find all the prices in the advertisement.", "Coffee 2.50, croissant 1.80, and the breakfast deal for just 3.90!", "2.50, 1.80, 3.90"),
    ("extract_contact", "extraction", N, "Extract the phone number and the email address.", "Call us on 555-0134 or write to help@example.org for support.", "Phone: 555-0134\nEmail: help@example.org"),
    ("table_from_text", "extraction", N, "Turn the sentence into a table with columns city and population.", "Lyon has about 520,000 people, Nantes about 320,000 and Lille about 235,000.", "| city | population |\n|---|---|\n| Lyon | 520,000 |\n| Nantes | 320,000 |\n| Lille | 235,000 |"),
    ("key_terms", "extraction", N, "Identify the three most important terms in the paragraph.", "Photosynthesis lets plants turn sunlight, water and carbon dioxide into glucose, releasing oxygen.", "photosynthesis, glucose, carbon dioxide"),
    # translation
    ('translate_fr', 'translation', N, "Translate 'Where is the train station?' into French.", '', 'Où est la gare ?'),
    ('translate_es', 'translation', N, "How do you say 'I would like two tickets, please' in Spanish?", '', 'Quisiera dos entradas, por favor.'),
    ("translate_de_en", "translation", N, "Translate the German sentence into English.", "Ich habe meinen Schlüssel vergessen.", "I forgot my key."),
    ('translate_idiom', 'translation', N, "Give an English expression that means the same as the French idiom 'il pleut des cordes'.", '', "It's raining cats and dogs."),
    ("translate_emoji", "translation", N, "Translate the emoji message into words.", "🌧️☕📚", "A rainy day with coffee and a good book."),
    # creative writing
    ("haiku_autumn", "creative writing", N, "Write a haiku about autumn leaves.", "", "Red leaves let go now\ndrifting on the cooling wind\nthe branch keeps no grudge"),
    ("story_opening", "creative writing", N, "Write the first two sentences of a mystery story set in a library.", "", "The library clock stopped at 9:14, the minute the last visitor signed out. By morning, every book on the top shelf had been turned to face the wall."),
    ("limerick_cat", "creative writing", N, "Write a limerick about a lazy cat.", "", "A cat who was lazy named Lou\nslept all day and the whole evening through;\nwhen asked for a chase\nhe just yawned in your face\nand went back to dreaming of stew."),
    ("product_slogan", "creative writing", N, "Create a slogan for a reusable water bottle.", "", "Refill, not landfill."),
    ("dialogue_shop", "creative writing", N, "Write a short dialogue between a customer and a shopkeeper about a lost umbrella.", "", "Customer: Did anyone hand in a green umbrella?\nShopkeeper: One came in this morning. Does it have a wooden handle?\nCustomer: Yes, that's mine!\nShopkeeper: Here you go. Stay dry."),
    ("describe_scene", "creative writing", N, "Describe a busy market in three vivid sentences.", "", "Stalls spill over with oranges and bright scarves. Traders shout prices over the hum of bargaining. The smell of grilled corn drifts through the crowd."),
    ("poem_from_words", "creative writing", N, "Write a four-line poem that uses all the given words.", "lantern, river, quiet, home", "A lantern glows beside the river's bend,\nits quiet light a message I can send:\nno matter where the winding waters roam,\nthis little flame will guide me safely home."),
    ("continue_story", "creative writing", N, "Continue the story with two more sentences.", "The robot had never seen snow before.", "It held out a metal hand and watched the flakes melt on its warm sensors. Then it did something no one had programmed: it laughed."),
    ("fable_moral", "creative writing", N, "Write a very short fable that teaches patience.", "", "A young fox dug up the seeds every day to see if they were growing. The old fox waited, and by summer only her patch was full of melons. Good things need time."),
    # advice
    ("study_tips", "advice", N, "Give three tips for studying for an exam.", "", "Study in short sessions with breaks, test yourself instead of only rereading, and sleep well the night before."),
    ("save_money", "advice", N, "Suggest ways to save money on groceries.", "", "Plan meals and shop with a list, buy store brands, cook in batches and freeze leftovers, and avoid shopping when hungry."),
    ("job_interview", "advice", N, "How should I prepare for a job interview?", "The job is a junior data analyst role.", "Review the company and the role, practise explaining a small analysis you did, brush up on spreadsheets and SQL, and prepare two questions to ask them."),
    ("sleep_better", "advice", N, "What can I do to fall asleep faster?", "", "Keep a regular bedtime, avoid screens and caffeine late in the day, keep the room cool and dark, and wind down with a calm routine."),
    ("plant_care", "advice", N, "My houseplant's leaves are turning yellow. What could be wrong?", "It sits in a dark corner and I water it every day.", "Daily watering probably drowns the roots, and the corner is too dark. Let the soil dry between waterings and move it to brighter, indirect light."),
    ("public_speaking", "advice", N, "Give advice to someone nervous about speaking in public.", "", "Practise out loud several times, know your first lines by heart, breathe slowly before you start, and remember the audience wants you to do well."),
    ("declutter", "advice", N, "Suggest a simple plan to declutter a bedroom in one weekend.", "", "Saturday: empty one area at a time and sort into keep, donate and bin. Sunday: put the keepers away, take donations out, and finish with a quick clean."),
    # comparison
    ("compare_cats_dogs", "comparison", N, "Compare cats and dogs as pets in three sentences.", "", "Dogs usually need more time, walks and training. Cats are more independent and suit smaller homes. Both can be affectionate companions."),
    ("compare_trains_planes", "comparison", N, "What are the pros and cons of taking the train instead of flying?", "The trip is from Paris to Amsterdam.", "The train is city-centre to city-centre, has less waiting and lower emissions; flying is faster in the air but adds airport time, so on this route the train is often as quick overall."),
    ("compare_lists_tuples", "comparison", N, "Explain the difference between a list and a tuple in Python.", "", "A list can be changed after it is made; a tuple cannot. Tuples can be dictionary keys and signal fixed data."),
    ("compare_weather_climate", "comparison", N, "How is weather different from climate?", "", "Weather is the state of the air on a given day; climate is the average pattern of weather over many years."),
    ('compare_two_offers', 'comparison', N, 'One phone plan costs 20 dollars a month; another costs 200 dollars once and then 5 dollars a month. Which is cheaper over a year?', '', 'Plan A costs 240 dollars a year; plan B costs 260, so plan A is cheaper.'),
    ("similarities_planets", "comparison", N, "Name two similarities between Earth and Mars.", "", "Both are rocky planets, and both have seasons because their axes are tilted."),
    # planning
    ("plan_trip", "planning", N, "Make a one-day plan for a tourist in a city with a museum, a park and a harbour.", "", "Morning: the museum before the crowds. Lunch: a picnic in the park. Afternoon: a walk and a boat tour at the harbour, then dinner by the water."),
    ("workout_plan", "planning", N, "Create a simple three-day weekly workout plan for a beginner.", "", "Monday: 20-minute brisk walk and bodyweight squats. Wednesday: light cycling and push-ups against a wall. Friday: a longer walk and gentle stretching."),
    ("party_checklist", "planning", N, "Write a checklist for hosting a birthday party for eight-year-olds.", "", "- Send invitations\n- Order or bake a cake\n- Plan two games\n- Buy snacks and drinks\n- Prepare small take-home bags"),
    ("project_steps", "planning", N, "Break the goal into weekly steps.", "Learn to cook five simple dinners in a month.", "Week 1: pasta and an omelette. Week 2: a stir-fry. Week 3: a soup. Week 4: a roast vegetable tray bake, then repeat your favourite."),
    ("schedule_day", "planning", N, "Arrange these tasks into a sensible schedule for a workday.", "answer emails, team meeting at 11, write report, lunch, call supplier", "9:00 answer emails, 9:45 write report, 11:00 team meeting, 12:30 lunch, 13:30 call supplier, then finish the report."),
    ("meal_plan", "planning", N, "Plan three vegetarian dinners that share ingredients to reduce waste.", "", "Lentil soup with carrots and onions, a carrot and chickpea curry, and a chickpea and spinach salad with the leftover onions."),
    # definitions / question answering
    ("define_photosynthesis", "definition", N, "Define photosynthesis in one sentence.", "", "Photosynthesis is how plants use sunlight to turn water and carbon dioxide into sugar and oxygen."),
    ('define_word', 'definition', N, "What does the word 'ephemeral' mean?", '', 'Lasting for a very short time.'),
    ("define_algorithm", "definition", N, "What is an algorithm?", "", "A step-by-step set of instructions for solving a problem or doing a task."),
    ("define_democracy", "definition", N, "Give a simple definition of democracy.", "", "A system of government in which citizens choose their leaders and laws, usually by voting."),
    ('synonyms', 'definition', N, "Give three synonyms for the word 'happy'.", '', 'Cheerful, joyful, content.'),
    ('antonyms', 'definition', N, 'Write the opposites of the words ancient, generous and fragile.', '', 'modern, stingy, sturdy'),
    ("capital_city", "question answering", N, "What is the capital of Canada?", "", "Ottawa."),
    ("who_invented", "question answering", N, "Who wrote the novel Pride and Prejudice?", "", "Jane Austen, published in 1813."),
    ("answer_from_text", "question answering", N, "Answer the question using the passage.", "Passage: The museum opens at 10 a.m. on weekdays and at 9 a.m. on weekends. Question: When does it open on Saturday?", "At 9 a.m."),
    ("how_many_legs", "question answering", N, "How many legs does a spider have?", "", "Eight."),
    ("largest_ocean", "question answering", N, "Which is the largest ocean on Earth?", "", "The Pacific Ocean."),
    ("boiling_point", "question answering", N, "At what temperature does water boil at sea level, in Fahrenheit?", "", "212 degrees Fahrenheit."),
    ("reading_comp", "question answering", N, "Read the text and say why the shop closed.", "The corner shop shut last month. Its owner, Mr. Ruiz, retired after forty years and none of his children wanted to run it.", "It closed because the owner retired and no family member wanted to take it over."),
    # ordering / sorting
    ('sort_alpha', 'sorting', N, 'Sort the words pear, apple, mango and banana in alphabetical order.', '', 'apple, banana, mango, pear'),
    ("order_events", "sorting", N, "Put the steps for making tea in the right order.", "pour water on the tea bag, boil the water, remove the tea bag, put a tea bag in the cup", "Boil the water, put a tea bag in the cup, pour the water on it, remove the tea bag."),
    ('rank_size', 'sorting', N, 'Rank a horse, a mouse, an elephant and a cat from smallest to largest.', '', 'mouse, cat, horse, elephant'),
    ("chronology", "sorting", N, "Arrange the inventions by the year they appeared, oldest first.", "telephone, printing press, internet, steam engine", "printing press, steam engine, telephone, internet"),
    ('sort_numbers', 'sorting', N, 'Sort the numbers 14, 3, 99, 27 and 8 from highest to lowest.', '', '99, 27, 14, 8, 3'),
    # conversion
    ('c_to_f', 'conversion', N, 'Convert 25 degrees Celsius to Fahrenheit.', '', '25 x 9/5 + 32 = 77 degrees Fahrenheit.'),
    ("miles_km", "conversion", N, "Convert 10 miles to kilometres.", "", "About 16.1 kilometres."),
    ('time_zone', 'conversion', N, 'If it is 3 p.m. in London, what time is it in New York, assuming standard time in both?', '', '10 a.m. in New York, five hours behind.'),
    ("list_to_json", "conversion", N, "Convert the list into a JSON object.", "name: Lena, age: 31, city: Oslo", "{\"name\": \"Lena\", \"age\": 31, \"city\": \"Oslo\"}"),
    ('roman_numerals', 'conversion', N, 'Write the year 2024 in Roman numerals.', '', 'MMXXIV'),
    ("bullets_to_paragraph", "conversion", N, "Turn the bullet points into a short paragraph.", "- founded 1998\n- 40 employees\n- makes bicycle lights", "The company was founded in 1998, employs 40 people and makes bicycle lights."),
    # reasoning / analogy
    ('analogy', 'reasoning', N, 'Complete the analogy: bird is to nest as bee is to what?', '', 'Hive.'),
    ('odd_one_out', 'reasoning', C, 'Which word does not belong: violin, cello, trumpet, viola?', '', 'Trumpet: the others are string instruments.'),
    ('next_in_sequence', 'reasoning', N, 'What number comes next in the sequence 2, 6, 12, 20, 30?', '', '42. The differences grow by 2 each time: 4, 6, 8, 10, 12.'),
    ('logic_puzzle', 'reasoning', N, 'Ann is taller than Ben, and Ben is taller than Cara. Who is the shortest?', '', 'Cara.'),
    ("cause_effect", "reasoning", N, "Name a likely cause and a likely effect of the event.", "A town's only bridge is closed for repairs.", "Cause: the bridge was damaged or worn out. Effect: longer journeys and traffic on other routes."),
    ("counterargument", "reasoning", N, "Give one counterargument to the claim.", "Homework should be banned in primary schools.", "Some homework, like reading at home, builds habits and lets parents see what their children are learning."),
    ('riddle', 'reasoning', N, 'Answer the riddle: what has keys but cannot open locks?', '', 'A piano.'),
    # recommendation
    ("book_recommend", "recommendation", N, "Recommend a type of book for someone who loved a fast-paced detective film.", "", "A classic crime thriller with a sharp detective and short chapters would suit them."),
    ('gift_idea', 'recommendation', N, 'Suggest a gift for a grandmother who loves gardening but has trouble kneeling.', '', 'A padded garden kneeler with handles, or a raised planter bed she can tend while standing.'),
    ("hobby_suggest", "recommendation", N, "Recommend a hobby for someone who wants to relax after work without screens.", "", "Try watercolour painting, knitting or cooking a new recipe each week."),
    ("choose_laptop", "recommendation", N, "Which of the two laptops would you recommend for a student who travels a lot?", "Laptop A: 1.1 kg, 14-hour battery. Laptop B: 2.3 kg, 6-hour battery, faster processor.", "Laptop A: it is much lighter and lasts all day, which matters more for travel than speed."),
    ('dinner_pick', 'recommendation', N, 'Suggest a quick dinner using only rice, eggs, frozen peas and soy sauce.', '', 'Egg fried rice: fry the eggs, add cooked rice and peas, and season with soy sauce.'),
    # naming
    ("name_pet", "naming", N, "Suggest three names for a grey kitten.", "", "Pebble, Smoky and Misty."),
    ("name_company", "naming", N, "Come up with a name for a company that repairs old bicycles.", "", "Second Spin Cycles."),
    ('name_dish', 'naming', N, 'Give a catchy name to a spicy noodle soup made with coconut milk and lime.', '', 'Coconut Fire Noodles.'),
    ("title_essay", "naming", N, "Propose a title for an essay about the history of public libraries.", "", "Open Shelves: How Public Libraries Changed Who Could Read."),
    # letters and messages
    ("thank_you_note", "email writing", N, "Write a short thank-you note to a neighbour who watered my plants.", "", "Dear Sam, thank you so much for watering my plants while I was away. They look happier than ever! Coffee is on me this week. Best, Jo"),
    ("sick_day_email", "email writing", N, "Write a brief email telling my manager I am ill and cannot work today.", "", "Subject: Sick today\n\nHi Maria,\nI'm unwell and won't be able to work today. I'll check messages this afternoon if anything urgent comes up.\nThanks,\nAlex"),
    ("complaint_letter", "email writing", N, "Write a polite complaint about a late delivery.", "Order 4471 was promised for Monday and arrived on Friday.", "Dear customer service, my order 4471 was promised for Monday but arrived on Friday. Could you explain the delay and consider refunding the delivery fee? Thank you."),
    ('invite_message', 'email writing', N, 'Write an invitation to a housewarming party on Saturday at 7 p.m. at 12 Elm Street.', '', "You're invited to our housewarming! Join us on Saturday at 7 p.m. at 12 Elm Street for food, drinks and a tour of the new place."),
    ("reply_decline", "email writing", N, "Write a friendly reply declining an invitation to speak at a conference.", "", "Thank you for the kind invitation. Unfortunately I can't take part this year because of other commitments, but I hope the conference goes very well and would be glad to be asked again."),
    ("apology_text", "email writing", N, "Write a short apology to a friend for missing their call.", "", "Sorry I missed your call! My phone was on silent all afternoon. Are you free to talk tonight?"),
    # instructions / how-to
    ("howto_boil_egg", "how-to", N, "Explain how to boil an egg so the yolk stays soft.", "", "Lower the egg into boiling water, cook for six minutes, then cool it in cold water for a minute before peeling."),
    ("howto_tie", "how-to", N, "Give step-by-step instructions for changing a flat bicycle tyre.", "", "1. Remove the wheel. 2. Lever off one side of the tyre. 3. Pull out the tube and find the hole. 4. Patch or replace the tube. 5. Refit the tyre and pump it up."),
    ("howto_password", "how-to", N, "How do I create a strong password that I can remember?", "", "Join three or four random words with a number or symbol, such as 'river-lamp-7-orbit', and use a password manager for the rest."),
    ("howto_plant_seed", "how-to", N, "Describe how to plant a tomato seed indoors.", "", "Fill a small pot with damp seed compost, press the seed 5 mm deep, cover it, keep it warm and moist, and place it in bright light once it sprouts."),
    ("howto_budget", "how-to", N, "Explain how to make a simple monthly budget.", "Monthly income is 2,000 dollars.", "List fixed costs like rent first, then estimate food and transport, set aside savings (say 10 percent, 200 dollars), and keep what is left for everything else."),
    # opinion / argument
    ("pros_cons_remote", "argument", N, "List two pros and two cons of working from home.", "", "Pros: no commute, more flexible hours. Cons: feeling isolated, harder to separate work from home life."),
    ("persuade_recycle", "argument", N, "Write a two-sentence argument persuading people to recycle.", "", "Recycling turns waste into new products and saves energy and raw materials. A few seconds of sorting at home add up to much cleaner streets and seas."),
    ("debate_uniforms", "argument", N, "Give one argument for and one against school uniforms.", "", "For: uniforms reduce pressure over clothing and costs. Against: they limit students' self-expression."),
    ("review_movie", "argument", N, "Write a short review of a film based on these notes.", "great acting, slow middle part, beautiful music", "Strong performances and a lovely score carry this film, even though the middle drags."),
    # data / tables
    ('pick_max', 'data', N, 'Sales were Jan 120, Feb 95, Mar 140 and Apr 130. Which month had the highest sales?', '', 'March, with 140.'),
    ("read_chart_text", "data", N, "Describe the trend in the numbers.", "Visitors per year: 2019 500, 2020 300, 2021 450, 2022 620", "Visitors fell sharply in 2020, then recovered and passed the 2019 level by 2022."),
    ("csv_row", "data", N, "Write the information as one CSV line with the header name,age,job.", "Tomas is a 42-year-old carpenter.", "name,age,job\nTomas,42,carpenter"),
    ('fill_missing', 'data', N, 'Fill in the missing value: Mon 5, Tue 10, Wed ?, Thu 20.', '', 'Wed 15, since the numbers rise by 5 each day.'),
]

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "alpaca_course" / "resources" / "seed_tasks.jsonl"
    names = [t[0] for t in TASKS]
    assert len(names) == len(set(names)), "duplicate names"
    with open(out, "w", encoding="utf-8") as fh:
        for name, kind, clf, instruction, input_, output in TASKS:
            row = {"name": name, "type": kind, "is_classification": clf,
                   "instruction": instruction, "input": input_, "output": output}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with_input = sum(1 for t in TASKS if t[4])
    print(f"{len(TASKS)} tasks, {len({t[1] for t in TASKS})} types, {with_input / len(TASKS):.0%} with input,"
          f" {sum(t[2] for t in TASKS)} classification")
